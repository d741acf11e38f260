"""Speed harness: steady-state throughput, compile time and peak memory (DESIGN.md section 4).

For each standard case (an architecture) and population size P, the harness times the engine's
own compiled training program, :meth:`coagentnet.train.Trainer.run_chunk` (a jitted, vmapped
``lax.scan`` over one chunk of updates), for the case's coagent rule and for backprop on the
same architecture, in the same run, and reports:

- ``us_per_update``: median wall time of a chunk divided by ``steps * P``: the cost of one
  network's update (microseconds), and ``updates_per_s``, its inverse (network-updates per
  second over the whole population);
- ``compile_s``: the first chunk's time minus the steady-state median (tracing + XLA compile);
- ``eval_us_per_example``: a greedy evaluation pass over the splits (up to
  :data:`EVAL_BUDGET` network-examples), per network and example;
- ``peak_rss_mb`` (process RSS high-water mark, each measurement in a fresh process) and, on a
  GPU, ``peak_device_mb``.

Inputs are synthetic arrays of the real shapes (784 inputs, 10 classes for the MNIST cases;
the correlated stream is generated inside the scan as in training): the harness measures speed,
never accuracy. Timings are wall-clock medians over ``repeats`` chunks after a warm-up chunk;
on a shared machine they are noisy, so the JSON also records the load average and the process
CPU time per update.

Run it as ``coagentnet bench`` (see :mod:`coagentnet.commands.bench`); this module's
``__main__`` is the per-measurement worker the command starts in a fresh process.
"""

from __future__ import annotations

import json
import math
import os
import platform as host_platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Marks the worker's result line on its stdout (JAX may print warnings around it).
RESULT_TAG = "COAGENTNET-BENCH-RESULT "

#: Examples in each synthetic validation and test split of the MNIST-shaped cases.
EVAL_EXAMPLES = 1024

#: Fewest updates per timed chunk (the scan's length), whatever P.
MIN_STEPS = 5

#: Most network-examples (P x examples) in the timed evaluation pass: the first evaluation
#: chunks of the case's splits, enough to make the call's fixed cost negligible; the per-example
#: cost does not change with more chunks (the scan just runs longer).
EVAL_BUDGET = 20_000_000


@dataclass(frozen=True)
class Case:
    """One standard architecture, measured with a coagent rule and with backprop.

    ``coagent`` and ``backprop`` are :class:`~coagentnet.config.Config` fields. ``steps`` is the
    default scan length at small P; ``budget`` caps the network-updates of one timed chunk, so
    that the scan shortens as P grows (``steps(P) = max(MIN_STEPS, min(steps, budget // P))``).
    """

    name: str
    description: str
    coagent: dict
    backprop: dict
    steps: int
    budget: int

    @property
    def is_stream(self) -> bool:
        return self.coagent.get("dataset") == "correlated"


_MNIST = dict(dataset="mnist", batch_size=32, units=64)
_STREAM = dict(dataset="correlated", batch_size=32, units=50)

#: The standard cases, by name. The first three are measured by default.
CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case(
            "mnist-1x64",
            "MNIST-shaped 784-64-10, Bernoulli REINFORCE, batch 32 (SPEC 7.1)",
            dict(_MNIST, layers=1, rule="reinforce"),
            dict(_MNIST, layers=1, rule="backprop"),
            steps=200,
            budget=20_000,
        ),
        Case(
            "mnist-3x64",
            "MNIST-shaped 784-64-64-64-10, off-policy, 1024-wide critics, batch 32 (SPEC 7.2)",
            dict(_MNIST, layers=3, rule="off_policy", critic_width=1024),
            dict(_MNIST, layers=3, rule="backprop"),
            steps=100,
            budget=5_000,
        ),
        Case(
            "correlated-1x50",
            "correlated stream, 1x50 Gaussian ReLU REINFORCE + ema baseline, batch 32 (SPEC 7.5)",
            dict(_STREAM, layers=1, rule="reinforce", unit_type="gaussian", baseline="ema"),
            dict(_STREAM, layers=1, rule="backprop"),
            steps=1000,
            budget=200_000,
        ),
        Case(
            "correlated-3x50",
            "correlated stream, 3x50 Bernoulli off-policy, critics 2x32, batch 32 (SPEC 7.5)",
            dict(_STREAM, layers=3, rule="off_policy", critic_width=32, critic_depth=2),
            dict(_STREAM, layers=3, rule="backprop"),
            steps=500,
            budget=50_000,
        ),
    )
}
DEFAULT_CASES = ("mnist-1x64", "mnist-3x64", "correlated-1x50")
DEFAULT_POPULATIONS = {"cpu": (1, 10, 100, 200, 1000), "gpu": (1, 10, 100, 1000, 10_000, 100_000)}
#: The GPU is much faster per update: longer chunks keep dispatch overhead out of the timings.
GPU_BUDGET_FACTOR = 10


def steps_for(case: Case, population: int, steps: int | None = None, device: str = "cpu") -> int:
    """Updates per timed chunk: ``steps`` if given, else the case's default for this P."""
    if steps is not None:
        return steps
    budget = case.budget * (GPU_BUDGET_FACTOR if device == "gpu" else 1)
    return max(MIN_STEPS, min(case.steps, budget // population))


# --------------------------------------------------------------------------- one measurement


def synthetic_mnist(num_train: int, seed: int = 0):
    """A :class:`~coagentnet.data.Dataset` of MNIST's shapes and value range, random content.

    784 inputs uniform in [-1, 1] and labels uniform over 10 classes: for timing only.
    """
    from coagentnet.data import Dataset

    rng = np.random.default_rng(seed)

    def split(n: int):
        x = rng.uniform(-1.0, 1.0, (n, 784)).astype(np.float32)
        return x, rng.integers(0, 10, n).astype(np.int32)

    (xt, yt), (xv, yv), (xs, ys) = split(num_train), split(EVAL_EXAMPLES), split(EVAL_EXAMPLES)
    return Dataset("synthetic-mnist", "classification", xt, yt, xv, yv, xs, ys, 10)


def bench_config(case: Case, rule: str, steps: int, repeats: int):
    """The Config (and data, ``None`` for the stream) whose chunks are ``steps`` updates long.

    ``rule`` is ``"coagent"`` or ``"backprop"``. ``repeats + 1`` chunks run: one warm-up
    (which compiles) and ``repeats`` timed ones.
    """
    from coagentnet.config import Config

    fields = dict(case.coagent if rule == "coagent" else case.backprop)
    chunks = repeats + 1
    if case.is_stream:
        if STREAM_UPDATES % steps == 0:
            # The paper's stream (M = 200, S = 1600) cut into chunks of ``steps`` updates, of
            # which only the first few run: evaluation sets are then the paper's 102,400
            # examples each, so the per-example evaluation cost is measured at its real size.
            paper = dict(num_means=200, batches_per_mean=1600, num_evals=STREAM_UPDATES // steps)
            return Config(**fields, epochs=1, **paper), None
        # Otherwise one segment per chunk (the walk costs the same every step); evaluation
        # sets are 1% of this shorter stream.
        cfg = Config(**fields, epochs=1, num_means=chunks, batches_per_mean=steps, num_evals=chunks)
        return cfg, None
    cfg = Config(**fields, epochs=chunks)
    return cfg, synthetic_mnist(steps * cfg.batch_size)


def _rss_mb() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def _available_mb(device) -> float | None:
    """Memory this measurement may use: the device's limit on a GPU, MemAvailable on a CPU."""
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return (stats["bytes_limit"] - stats.get("bytes_in_use", 0)) / 2**20
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


#: Estimated peak memory / population state: the state in and out of a chunk, gradients,
#: optimiser temporaries and activations (XLA's own accounting of these programs: 2.5-3x).
STATE_FACTOR = 4.0


def measure(
    case_name: str,
    population: int,
    steps: int,
    repeats: int,
    device: str = "cpu",
    kinds: Sequence[str] = ("coagent", "backprop"),
    eval_chunk: int | None = None,
) -> list[dict]:
    """Time a population of P networks of one case, coagent rule and backprop (in-process).

    Both programs are compiled first; then their timed chunks alternate (coagent, backprop,
    coagent, ...), so that both see the same load: on a shared machine this keeps their ratio
    meaningful even when the absolute times drift. Returns one row per rule (see the module
    docstring). A rule whose population would not fit in the memory left is skipped
    (``skipped`` says why) rather than risking the machine.
    """
    import jax

    case = CASES[case_name]
    devices = jax.devices(device)
    dev = devices[0]
    base_rss = _rss_mb()
    runs, rows = {}, []
    with jax.default_device(dev):
        for kind in kinds:
            row = _row_header(case, kind, population, steps, repeats, dev)
            row["base_rss_mb"] = base_rss
            rows.append(row)
            run = _prepare(case, kind, population, steps, repeats, devices, row, eval_chunk)
            if run is not None:
                runs[kind] = run
        for chunk in range(1, repeats + 1):
            for run in runs.values():
                run.timed_chunk(chunk)
        for run in runs.values():
            run.time_evaluation()
    peak = _rss_mb()
    stats = dev.memory_stats() if dev.platform != "cpu" else None
    for row in rows:
        run = runs.get(row["kind"])
        if run is None:
            continue
        row.update(run.results(), peak_rss_mb=peak)
        if stats and "peak_bytes_in_use" in stats:
            row["peak_device_mb"] = stats["peak_bytes_in_use"] / 2**20
    return rows


class _Run:
    """One rule's compiled population, its state and its timings (see :func:`measure`)."""

    def __init__(self, trainer, layout, hyper, keys, steps, population):
        import jax

        self.trainer, self.layout, self.hyper, self.keys = trainer, layout, hyper, keys
        self.steps, self.population = steps, population
        self.arrays = layout.replicate(trainer.train_arrays)
        self.eval_arrays = layout.replicate(eval_subset(trainer.eval_arrays, population))
        self.state = jax.block_until_ready(layout.place(trainer.init(keys, hyper)))
        self.walls: list[float] = []
        self.cpus: list[float] = []
        t0 = time.perf_counter()
        self.state, self.metrics = jax.block_until_ready(self._chunk(0))
        self.first = time.perf_counter() - t0

    def _chunk(self, chunk: int):
        return self.trainer.run_chunk(self.state, self.hyper, self.keys, chunk, self.arrays)

    def timed_chunk(self, chunk: int) -> None:
        import jax

        w0, c0 = time.perf_counter(), time.process_time()
        self.state, self.metrics = jax.block_until_ready(self._chunk(chunk))
        self.walls.append(time.perf_counter() - w0)
        self.cpus.append(time.process_time() - c0)

    def time_evaluation(self) -> None:
        import jax

        def once() -> float:
            t0 = time.perf_counter()
            jax.block_until_ready(
                self.trainer.evaluate(self.state, self.hyper, self.keys, 1, self.eval_arrays)
            )
            return time.perf_counter() - t0

        self.eval_first = once()  # compiles
        self.eval_wall = once()

    def program_mb(self) -> float | None:
        """XLA's peak memory of the compiled chunk program (all shards), or None if unknown."""
        program = getattr(self.trainer, "_chunk_fast", None)  # the program run_chunk runs
        try:
            compiled = program.lower(self.state, self.hyper, self.keys, 0, self.arrays).compile()
            stats = compiled.memory_analysis()
            peak = getattr(stats, "peak_memory_in_bytes", 0) or (
                stats.argument_size_in_bytes
                + stats.output_size_in_bytes
                + stats.temp_size_in_bytes
                - stats.alias_size_in_bytes
            )
        except Exception:  # noqa: BLE001 - an optional statistic; never fail the benchmark
            return None
        return self.layout.shards * peak / 2**20

    def results(self) -> dict:
        import jax

        P, updates = self.population, self.steps * self.population
        wall = float(np.median(self.walls))
        examples = int(np.asarray(self.eval_arrays["mask"]).sum())  # real, not padding
        leaves = jax.tree.leaves(self.metrics)  # mean training metrics of the last chunk
        return dict(
            updates_per_chunk=updates,
            timed_updates=updates * len(self.walls),
            chunk_s=self.walls,
            first_chunk_s=self.first,
            compile_s=max(self.first - wall, 0.0),
            us_per_update=1e6 * wall / updates,
            updates_per_s=updates / wall,
            cpu_us_per_update=1e6 * float(np.median(self.cpus)) / updates,
            eval_examples=examples,
            eval_s=self.eval_wall,
            eval_compile_s=max(self.eval_first - self.eval_wall, 0.0),
            eval_us_per_example=1e6 * self.eval_wall / (examples * P),
            program_mb=self.program_mb(),
            diverged=int(np.sum(np.asarray(self.state["diverged"])[:P])),
            finite=all(bool(np.isfinite(np.asarray(v)[:P]).all()) for v in leaves),
        )


def _prepare(
    case: Case, kind: str, population: int, steps: int, repeats: int, devices, row, eval_chunk=None
):
    """Build, place and warm up (compile) one rule's population; None if it would not fit.

    ``eval_chunk``: evaluation chunk size, instead of :data:`coagentnet.evaluation.MAX_CHUNK`.
    """
    import jax
    import jax.numpy as jnp

    from coagentnet.config import POPULATION_SCALARS
    from coagentnet.training.batches import training_data
    from coagentnet.training.devices import population_layout
    from coagentnet.training.evaluation import eval_arrays
    from coagentnet.training.loop import Trainer, _member_keys, _stack

    cfg, data = bench_config(case, kind, steps, repeats)
    prepared = training_data(cfg, data)
    trainer = Trainer(cfg, prepared)
    if eval_chunk is not None:  # evaluate takes its arrays as an argument: swap them
        trainer.eval_arrays = eval_arrays(prepared.eval_splits, max_chunk=eval_chunk)
    row["eval_chunk"] = int(trainer.eval_arrays["mask"].shape[1])  # examples per scan step
    if trainer.source.steps_per_chunk != steps:  # the scan must be as long as we report
        raise AssertionError(f"chunk has {trainer.source.steps_per_chunk} updates, not {steps}")
    hyper = {k: jnp.full((population,), float(getattr(cfg, k))) for k in POPULATION_SCALARS}
    keys = _stack([_member_keys(seed) for seed in range(population)])
    # The same placement as train_population: members split over every core / GPU.
    layout = population_layout(population, devices)
    hyper, keys = layout.place(hyper), layout.place(keys)
    row.update(shards=layout.shards, padded_population=layout.padded)
    shapes = jax.eval_shape(trainer.init, keys, hyper)
    state_mb = sum(math.prod(s.shape) * s.dtype.itemsize for s in jax.tree.leaves(shapes)) / 2**20
    row["state_mb"] = state_mb
    available = _available_mb(devices[0])
    need = STATE_FACTOR * state_mb
    if available is not None and need > 0.8 * available:
        row["skipped"] = f"needs ~{need:,.0f} MB, {available:,.0f} MB available"
        return None
    return _Run(trainer, layout, hyper, keys, steps, population)


def eval_subset(arrays: dict, population: int) -> dict:
    """The first evaluation chunks of ``arrays`` (see :func:`coagentnet.evaluation.eval_arrays`)
    holding at most :data:`EVAL_BUDGET` network-examples for ``population`` members (at least
    one chunk)."""
    chunks, size = arrays["mask"].shape
    keep = max(1, min(chunks, EVAL_BUDGET // (population * size)))
    return {k: v[:keep] for k, v in arrays.items()}


def _row_header(case: Case, rule: str, population: int, steps: int, repeats: int, dev) -> dict:
    return {
        "case": case.name,
        "kind": rule,
        "rule": (case.coagent if rule == "coagent" else case.backprop)["rule"],
        "population": population,
        "steps": steps,
        "repeats": repeats,
        "device": dev.platform,
        "device_kind": getattr(dev, "device_kind", dev.platform),
    }


# ------------------------------------------------------------------------ the whole benchmark


@dataclass
class Plan:
    """What one ``coagentnet bench`` run measures."""

    cases: Sequence[str]
    populations: Sequence[int]
    device: str = "cpu"  # "cpu" or "gpu" (already resolved)
    steps: int | None = None  # None: each case's default for each P
    repeats: int = 3
    inline: bool = False  # measure in this process (no per-measurement peak memory)
    eval_chunk: int | None = None  # None: the engine's MAX_CHUNK
    timeout_s: float = 3600.0
    extra: dict = field(default_factory=dict)

    def measurements(self) -> list[tuple[str, int, int]]:
        """(case, P, steps) in run order; each measures the coagent rule and backprop."""
        return [
            (name, p, steps_for(CASES[name], p, self.steps, self.device))
            for name in self.cases
            for p in self.populations
        ]


def run_worker(spec: dict, device: str, timeout_s: float) -> list[dict]:
    """One :func:`measure` in a fresh Python process, so that its peak RSS is its own."""
    env = dict(os.environ)
    if device == "cpu":
        env["JAX_PLATFORMS"] = "cpu"  # never touch (or preallocate) a GPU for a CPU run
    cmd = [sys.executable, "-m", "coagentnet.bench.measure", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return _failed(spec, f"timed out after {timeout_s:.0f} s")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    lines = (proc.stderr or proc.stdout).strip().splitlines() or ["no output"]
    return _failed(spec, f"worker exit {proc.returncode}: {lines[-1]}")


def _failed(spec: dict, error: str) -> list[dict]:
    case = CASES[spec["case_name"]]
    return [
        {
            "case": case.name,
            "kind": kind,
            "rule": (case.coagent if kind == "coagent" else case.backprop)["rule"],
            "population": spec["population"],
            "steps": spec["steps"],
            "repeats": spec["repeats"],
            "device": spec["device"],
            "error": error,
        }
        for kind in ("coagent", "backprop")
    ]


def run(plan: Plan, progress: Callable[[dict], None] | None = None) -> dict:
    """Run every measurement of ``plan``; returns the JSON-ready report."""
    from coagentnet.training.evaluation import MAX_CHUNK

    started = time.time()
    load_before = _loadavg()
    rows = []
    for name, p, steps in plan.measurements():
        spec = dict(
            case_name=name,
            population=p,
            steps=steps,
            repeats=plan.repeats,
            device=plan.device,
            eval_chunk=plan.eval_chunk,
        )
        pair = measure(**spec) if plan.inline else run_worker(spec, plan.device, plan.timeout_s)
        rows.extend(pair)
        if progress is not None:
            for row in pair:
                progress(row)
    add_ratios(rows)
    return {
        "machine": machine_info(plan.device),
        "plan": {
            "cases": list(plan.cases),
            "populations": list(plan.populations),
            "device": plan.device,
            "steps": plan.steps,
            "repeats": plan.repeats,
            "inline": plan.inline,
            "eval_chunk": plan.eval_chunk or MAX_CHUNK,
            **plan.extra,
        },
        "load_average": {"before": load_before, "after": _loadavg()},
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "wall_s": time.time() - started,
        "note": "synthetic inputs of the real shapes: speed only, not accuracy",
        "cases": {n: {"description": CASES[n].description} for n in plan.cases},
        "results": rows,
        "projections": projections(rows),
    }


def add_ratios(rows: list[dict]) -> None:
    """``vs_backprop``: a row's time per update over backprop's, same case and P."""
    backprop = {
        (r["case"], r["population"]): r["us_per_update"]
        for r in rows
        if r["kind"] == "backprop" and "us_per_update" in r
    }
    for r in rows:
        ref = backprop.get((r["case"], r["population"]))
        if "us_per_update" in r and ref:
            r["vs_backprop"] = r["us_per_update"] / ref


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info(device: str) -> dict:
    import jax

    info = {
        "python": host_platform.python_version(),
        "jax": jax.__version__,
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "os": host_platform.platform(),
        "device": device,
    }
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return host_platform.processor() or "unknown"


# ----------------------------------------------------------------------------- projections

#: MNIST protocol (SPEC 5): 50,000 training images, batch 32 (last partial batch dropped), and
#: train + validation + test (50k + 10k + 10k) evaluated after every epoch and once before.
MNIST_UPDATES_PER_EPOCH = 50_000 // 32
MNIST_EVAL_EXAMPLES = 70_000

#: Correlated study at paper scale (SPEC 5 and 7.5): M * S = 200 * 1600 updates per run,
#: 201 evaluations of validation + test (102,400 examples each), for 8 difficulties:
#: sweeps over 30 seeds (backprop: 8 step sizes; Gaussian REINFORCE: 8 step sizes x 7 unit_std;
#: discrete off-policy: 8 step sizes) and final curves of 200 seeds per method.
STREAM_UPDATES = 200 * 1600
STREAM_EVAL_EXAMPLES = 201 * 2 * 102_400
CORRELATED_RUNS = {  # case, rule kind -> runs
    ("correlated-1x50", "backprop"): 8 * (8 * 30 + 200),
    ("correlated-1x50", "coagent"): 8 * (8 * 7 * 30 + 200),
    ("correlated-3x50", "coagent"): 8 * (8 * 30 + 200),
}


def _pick(rows: list[dict], case: str, kind: str, population: int | None = None) -> dict | None:
    """The measured row nearest ``population`` (log scale), or the fastest if None."""
    done = [r for r in rows if r["case"] == case and r["kind"] == kind and "us_per_update" in r]
    if not done:
        return None
    if population is None:
        return min(done, key=lambda r: r["us_per_update"])
    return min(done, key=lambda r: abs(math.log(r["population"] / population)))


def projections(rows: list[dict]) -> dict:
    """Wall time of two reference workloads projected from the measured throughputs.

    Projections assume the measured per-update and per-example costs hold for the whole run
    (training and evaluation; no data loading, store or plotting).
    """
    out = {}
    r = _pick(rows, "mnist-3x64", "coagent", 9)
    if r is not None:
        updates = 9 * 1000 * MNIST_UPDATES_PER_EPOCH
        evals = 9 * 1001 * MNIST_EVAL_EXAMPLES * r["eval_us_per_example"]
        train_s = updates * r["us_per_update"] / 1e6
        out["mnist_3x64_off_policy_9_seeds_1000_epochs"] = {
            "measured_population": r["population"],
            "network_updates": updates,
            "train_s": train_s,
            "eval_s": evals / 1e6,
            "total_s": train_s + evals / 1e6,
        }
    parts, missing, total = {}, [], 0.0
    for (case, kind), runs in CORRELATED_RUNS.items():
        r = _pick(rows, case, kind)
        label = f"{case}/{CASES[case].coagent['rule'] if kind == 'coagent' else 'backprop'}"
        if r is None:
            missing.append(label)
            continue
        train_s = runs * STREAM_UPDATES * r["us_per_update"] / 1e6
        eval_s = runs * STREAM_EVAL_EXAMPLES * r["eval_us_per_example"] / 1e6
        parts[label] = {
            "runs": runs,
            "measured_population": r["population"],
            "train_s": train_s,
            "eval_s": eval_s,
        }
        total += train_s + eval_s
    if parts:
        out["correlated_study_paper_scale"] = {
            "parts": parts,
            "total_s": total,
            "not_measured": missing,
        }
    return out


# ------------------------------------------------------------------------------ formatting


def _fmt(value, spec: str, empty: str = "-") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return empty
    return format(value, spec)


def table(report: dict) -> str:
    """The human-readable summary of a report: one line per measurement, then projections."""
    head = (
        "case", "rule", "P", "steps", "us/update", "updates/s", "vs backprop",
        "compile s", "eval us/ex", "program MB", "peak MB",
    )  # fmt: skip
    lines = []
    for r in report["results"]:
        if "error" in r or "skipped" in r:
            what = r.get("error") or f"skipped: {r['skipped']}"
            lines.append((r["case"], r["rule"], str(r["population"]), str(r["steps"]), what))
            continue
        # Peak of the process (shared by the pair of rules), or of the GPU's allocator.
        peak = r.get("peak_device_mb") or (None if report["plan"]["inline"] else r["peak_rss_mb"])
        lines.append(
            (
                r["case"],
                r["rule"],
                str(r["population"]),
                str(r["steps"]),
                _fmt(r["us_per_update"], ".2f"),
                _fmt(r["updates_per_s"], ",.0f"),
                _fmt(r.get("vs_backprop"), ".2f") if r["kind"] != "backprop" else "1",
                _fmt(r["compile_s"], ".1f"),
                _fmt(r["eval_us_per_example"], ".3f"),
                _fmt(r.get("program_mb"), ",.0f"),
                _fmt(peak, ",.0f"),
            )
        )
    full = [row for row in lines if len(row) == len(head)]
    widths = [max(len(row[i]) for row in (head, *full)) for i in range(len(head))]
    out = []
    for row in (head, *lines):
        if len(row) == len(head):
            cells = [
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
        else:
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]),
                     row[3].rjust(widths[3]), row[4]]  # fmt: skip
        out.append("  ".join(cells).rstrip())
    m = report["machine"]
    load = report["load_average"]
    out.insert(
        0,
        f"device {report['plan']['device']} ({m['cpu']}, {m['cpu_count']} CPUs), jax {m['jax']}; "
        f"load average {load['before']} -> {load['after']}; {report['note']}",
    )
    for name, p in report["projections"].items():
        if "total_s" in p and "parts" not in p:
            out.append(
                f"projection {name}: {_hours(p['total_s'])} "
                f"(train {_hours(p['train_s'])}, eval {_hours(p['eval_s'])}; "
                f"rate measured at P = {p['measured_population']})"
            )
        elif "parts" in p:
            miss = f"; not measured: {', '.join(p['not_measured'])}" if p["not_measured"] else ""
            out.append(f"projection {name}: {_hours(p['total_s'])}{miss}")
    return "\n".join(out)


def _hours(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


# ------------------------------------------------------------------------------ the worker


def _worker_main(argv: list[str]) -> int:
    from coagentnet.training.devices import use_cpu_cores

    use_cpu_cores()  # as the command line does for train and sweep
    spec = json.loads(argv[0])
    rows = measure(**spec)
    print(RESULT_TAG + json.dumps(rows), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
