"""``python -m bench.ops CASE [options]``: where one case's update (or evaluation) spends its time.

Builds the case's population exactly as ``coagentnet bench`` does, runs the warm-up chunk,
then profiles one more chunk (or, with ``--evaluation``, one evaluation pass over the examples
the harness times) with :mod:`jax.profiler` and prints the compiled program's XLA operations
(fusions, matrix products, loops) by self time per network-update (or per network-example),
summed over threads on a CPU, from the GPU's op line on a GPU. Each operation is followed by
the JAX code it came from (its HLO ``op_name``; ``--hlo PATH`` writes the whole program). Use
it to see what a rule pays for beyond backprop's step, e.g. ``python -m bench.ops
correlated-1x50`` and ``python -m bench.ops correlated-1x50 --rule backprop``.
"""

from __future__ import annotations

import argparse
import collections
import glob
import re
import sys
import tempfile
import time

#: Prefixes of the jit/vmap wrappers every op of a chunk or evaluation program shares.
_WRAPPERS = ("jit(_chunk", "jit(_evaluate", "vmap()")

#: Host-side bookkeeping events on the XLA CPU threads, not operations of the program.
_NOT_OPS = ("ThunkExecutor", "SlinkyThreadPool")


def op_times(profile) -> collections.Counter:
    """Self time in nanoseconds per XLA operation name in a :class:`jax.profiler.ProfileData`.

    A loop's event spans its body's operations on the same thread; only the time not spent in
    a nested event is the loop's own, so nothing is counted twice.
    """
    gpu = [p for p in profile.planes if p.name.startswith("/device:GPU")]
    times: collections.Counter = collections.Counter()
    for plane in gpu or profile.planes:
        for line in plane.lines:
            wanted = line.name == "XLA Ops" if gpu else line.name.startswith("tf_XLA")
            if not wanted:
                continue
            events = [e for e in line.events if not e.name.startswith(_NOT_OPS)]
            events.sort(key=lambda e: (e.start_ns, -e.end_ns))
            open_events: list = []  # enclosing events, innermost last
            for event in events:
                while open_events and open_events[-1].end_ns <= event.start_ns:
                    open_events.pop()
                if open_events:
                    times[open_events[-1].name] -= event.duration_ns
                times[event.name] += event.duration_ns
                open_events.append(event)
    return times


def op_origins(hlo: str) -> dict[str, str]:
    """Operation name -> the JAX code it came from (its ``op_name`` metadata, shortened)."""
    origins = {}
    for name, where in re.findall(r'^\s*(?:ROOT )?%?([\w.\-]+) = .*?op_name="([^"]+)"', hlo, re.M):
        parts = [p for p in where.split("/") if not p.startswith(_WRAPPERS)]
        origins.setdefault(name, "/".join(parts[-4:]))
    return origins


def main(argv: list[str] | None = None) -> int:
    from coagentnet.training.devices import use_cpu_cores

    use_cpu_cores()  # the layout coagentnet bench measures
    import jax

    from coagentnet.bench.cases import CASES, steps_for
    from coagentnet.bench.measure import prepare

    parser = argparse.ArgumentParser(prog="python -m bench.ops", description=__doc__)
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--rule", choices=("coagent", "backprop"), default="coagent")
    parser.add_argument("--population", type=int, default=200, help="P (default 200)")
    parser.add_argument("--steps", type=int, default=None, help="updates in the chunk")
    parser.add_argument("--top", type=int, default=20, help="operations to list (20)")
    parser.add_argument(
        "--evaluation", action="store_true", help="profile an evaluation pass, not training"
    )
    parser.add_argument("--hlo", metavar="PATH", help="also write the compiled program's HLO")
    args = parser.parse_args(argv)

    case = CASES[args.case]
    device = jax.devices()[0].platform
    steps = steps_for(case, args.population, args.steps, "gpu" if device == "gpu" else "cpu")
    row: dict = {}
    run = prepare(case, args.rule, args.population, steps, 1, jax.devices(), row)
    if run is None:
        print(f"--population: {row['skipped']}", file=sys.stderr)
        return 2
    if args.evaluation:
        run.time_evaluation()  # compiles it
        program, what = run.programs.evaluate, "examples"
        inputs = (run.state, run.hyper, run.keys, 1, run.eval_arrays)
        count = int(run.eval_arrays.mask.sum()) * args.population
    else:
        program, what = run.programs.chunk_fast, "updates"
        inputs = (run.state, run.hyper, run.keys, 1, run.arrays)
        count = steps * args.population
    with tempfile.TemporaryDirectory() as trace_dir:
        with jax.profiler.trace(trace_dir):
            t0 = time.perf_counter()
            jax.block_until_ready(program(*inputs))
            wall = time.perf_counter() - t0
        (path,) = glob.glob(f"{trace_dir}/**/*.xplane.pb", recursive=True)
        times = op_times(jax.profiler.ProfileData.from_file(path))
    program = program.lower(*inputs)
    hlo = program.compile().as_text()
    if args.hlo:
        with open(args.hlo, "w") as f:
            f.write(hlo)
    origins = op_origins(hlo)

    unit = "us/example" if args.evaluation else "us/update"
    total = sum(times.values())
    print(
        f"{args.case} {args.rule} P={args.population} ({row['shards']} shards), "
        f"{count // args.population} {what} per member: wall {1e6 * wall / count:.3f} {unit} "
        f"(while profiling), ops {1e-3 * total / count:.3f} {unit} summed over threads"
    )
    for name, ns in times.most_common(args.top):
        share = f"{1e-3 * ns / count:9.4f} {unit}  {100 * ns / total:5.1f}%"
        print(f"{share}  {name}  <- {origins.get(name, '?')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
