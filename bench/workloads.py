"""``python -m bench.workloads NAME --out DIR``: paper-scale workloads timed whole on one device.

Where ``coagentnet bench`` times steady-state training chunks, this trains whole populations
as a user would (``run_population``: data, compile, training and every evaluation) and records
the wall time of each, so a whole study's duration can be projected from measured rates:

- ``stream``: the correlated stream at the authors' length (M = 200 means x S = 1600 batches of
  32: 320,000 updates, 200 evaluations on 102,400-example validation and test sets, Gupta et al.
  2021, section 5.3), at their four tuned final settings, one population of ``--seeds`` (200)
  per (setting, method): backprop with Adam, and Gaussian ReLU REINFORCE with an EMA baseline.
- ``mnist_1024``: 784-64-64-64-10 off-policy with 1024-wide critics (the authors' 1000-epoch
  MNIST study), ``--seeds`` members (9).
- ``protocol``: the claim-2 protocol cell (``experiments/protocol/claim2.yaml``): 3 x 64
  Bernoulli units, critics 64, lr 2^-11, REINFORCE, actor-critic and off-policy, ``--seeds`` (5).
- ``greedy``: the greedy-continuation rules at 3 x 64, if this checkout has them.

The MNIST-shaped workloads train on Fashion-MNIST (``--data-dir`` where its IDX files are;
the same shapes as MNIST: 784 inputs, 10 classes, 50k / 10k / 10k, 1562 updates an epoch) or,
with ``--synthetic``, on random arrays of those shapes.

One JSON file per workload is (re)written after every population, so a run cut short keeps what
it measured. ``$COAGENTNET_MEMBER_TILE`` chooses members per vmapped step as in training (1:
bitwise invariant, members one after another; 0: the whole population vmapped).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

STARTED = time.perf_counter()

#: The authors' final settings on the stream: d -> (backprop lr, REINFORCE lr, unit_std).
STREAM_SETTINGS = {
    0.0: (2.0**-7, 2.0**-7, 0.25),
    1.0: (2.0**-14, 2.0**-9, 4.0),
    0.95: (2.0**-14, 2.0**-9, 2.0),
    0.98: (2.0**-14, 2.0**-9, 2.0),
}


def stream_populations(seeds: int, means: int, batches: int):
    """(label, config) per population of the stream workload, d = 0 and 1 first."""
    from coagentnet.config import Config

    base = dict(
        dataset="correlated",
        layers=1,
        units=50,
        batch_size=32,
        epochs=1,
        num_means=means,
        batches_per_mean=batches,
        num_evals=means,
    )
    for d, (bp_lr, rf_lr, std) in STREAM_SETTINGS.items():
        yield (
            f"d={d} backprop",
            Config(**base, difficulty=d, rule="backprop", optimizer="adam", lr=bp_lr),
            seeds,
        )
        yield (
            f"d={d} reinforce",
            Config(
                **base,
                difficulty=d,
                rule="reinforce",
                unit_type="gaussian",
                baseline="ema",
                unit_std=std,
                lr=rf_lr,
            ),
            seeds,
        )


def image_populations(name: str, seeds: int, epochs: int, data_dir: str | None):
    """(label, config, P) per population of an MNIST-shaped workload."""
    from coagentnet.config import Config
    from coagentnet.rules.registry import RULES

    base = dict(
        dataset="fashion-mnist",
        data_dir=data_dir,
        layers=3,
        units=64,
        batch_size=32,
        optimizer="rmsprop",
        epochs=epochs,
    )
    if name == "mnist_1024":
        yield (
            "off_policy critic 1024",
            Config(**base, rule="off_policy", critic_width=1024, lr=2.0**-11),
            seeds,
        )
    elif name == "protocol":
        yield "reinforce", Config(**base, rule="reinforce", lr=2.0**-11), seeds
        for rule in ("actor_critic", "off_policy"):
            yield rule, Config(**base, rule=rule, critic_width=64, lr=2.0**-11), seeds
    elif name == "greedy":
        for rule in ("greedy_return", "greedy_counterfactual"):
            if rule in RULES:
                yield rule, Config(**base, rule=rule, lr=2.0**-11), seeds


def device_info() -> dict:
    import jax

    dev = jax.devices()[0]
    return {
        "platform": dev.platform,
        "device_kind": dev.device_kind,
        "device_count": jax.device_count(),
        "jax": jax.__version__,
        "member_tile": os.environ.get("COAGENTNET_MEMBER_TILE", "1 (default)"),
    }


def peak_device_mb() -> float | None:
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    peak = stats.get("peak_bytes_in_use")
    return None if peak is None else peak / 2**20


def time_population(label: str, cfg, seeds: int, data) -> dict:
    """Train one population of ``seeds`` members of ``cfg``; the wall times of its phases."""
    import numpy as np

    from coagentnet.training.run import run_population

    stamps: list[tuple[int, float]] = []
    start = time.perf_counter()

    def on_evaluation(step, members):
        stamps.append((int(step), time.perf_counter() - start))

    results = run_population(
        [cfg] * seeds, list(range(seeds)), data=data, on_evaluation=on_evaluation
    )
    total = time.perf_counter() - start
    updates = int(results[0].updates)
    row = {
        "population": label,
        "P": seeds,
        "updates_per_member": updates,
        "evaluations": len(stamps),
        "wall_s": total,
        "first_evaluation_s": stamps[0][1] if stamps else None,
        "last_evaluation_s": stamps[-1][1] if stamps else None,
        "peak_device_mb": peak_device_mb(),
        "diverged": int(sum(r.diverged for r in results)),
    }
    if len(stamps) >= 3:
        # From the end of the second evaluation on: compiled, so training and evaluation only.
        (s1, t1), (s2, t2) = stamps[1], stamps[-1]
        if s2 > s1:
            row["steady_s_per_update"] = (t2 - t1) / (s2 - s1)
            row["steady_us_per_network_update"] = 1e6 * row["steady_s_per_update"] / seeds
    metric = "test/accuracy" if cfg.dataset != "correlated" else "test/loss"
    values = [r.final.get(metric) for r in results if not r.diverged]
    values = [v for v in values if v is not None and np.isfinite(v)]
    if values:
        row[f"final_{metric.replace('/', '_')}_mean"] = float(np.mean(values))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workloads", description=__doc__)
    parser.add_argument("name", choices=("stream", "mnist_1024", "protocol", "greedy"))
    parser.add_argument("--out", required=True, help="folder for <name>[-<tag>].json")
    parser.add_argument("--tag", default="", help="suffix of the JSON file's name")
    parser.add_argument("--seeds", type=int, default=None, help="members per population")
    parser.add_argument("--epochs", type=int, default=3, help="epochs (MNIST-shaped workloads)")
    parser.add_argument("--means", type=int, default=200, help="stream: M (200)")
    parser.add_argument("--batches", type=int, default=1600, help="stream: S (1600)")
    parser.add_argument("--data-dir", default=None, help="folder with Fashion-MNIST IDX files")
    parser.add_argument("--synthetic", action="store_true", help="random MNIST-shaped arrays")
    parser.add_argument("--only", default="", help="stream: comma-separated labels' prefixes")
    args = parser.parse_args(argv)

    from coagentnet.atomic import write_text
    from coagentnet.training.devices import use_cpu_cores

    use_cpu_cores()  # as the command line does (one device per core on a CPU; inert on a GPU)
    imported = time.perf_counter() - STARTED
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{args.name}{'-' + args.tag if args.tag else ''}.json")
    report = {
        "workload": args.name,
        "argv": sys.argv[1:],
        "device": device_info(),
        "import_s": imported,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "populations": [],
    }
    data = None
    if args.name == "stream":
        seeds = args.seeds or 200
        pops = list(stream_populations(seeds, args.means, args.batches))
        wanted = [p.strip() for p in args.only.split(",") if p.strip()]
        pops = [p for p in pops if not wanted or any(p[0].startswith(w) for w in wanted)]
    else:
        seeds = args.seeds or (9 if args.name == "mnist_1024" else 5)
        pops = list(image_populations(args.name, seeds, args.epochs, args.data_dir))
        if args.synthetic:
            from coagentnet.bench.cases import synthetic_mnist

            data = synthetic_mnist(50_000)
            report["data"] = "synthetic MNIST-shaped arrays (50k train, 1k val, 1k test)"
        else:
            report["data"] = "fashion-mnist (50k / 10k / 10k)"
    for label, cfg, p in pops:
        row = time_population(label, cfg, p, data)
        row["process_s"] = time.perf_counter() - STARTED
        report["populations"].append(row)
        write_text(path, json.dumps(report, indent=1), option="--out")
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
