"""A learning-rate sweep logged to Weights & Biases, offline: one W&B run per network.

    pip install wandb
    python examples/wandb_sweep.py --tiny          # seconds; runs under ./wandb/offline-run-*
    wandb sync wandb/offline-run-*                 # later, to upload them (needs an account)

The grid (learning rates x seeds) trains as one population; every evaluation's values are
kept through ``on_evaluation`` and then logged to one W&B run per network, with the network's
config as the run's config, so W&B's sweep views group and compare them. ``mode="offline"``
writes everything locally and needs neither an account nor a network.
"""

from __future__ import annotations

import argparse

import coagentnet as cn


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="8 units, 1 epoch, 2 seeds")
    parser.add_argument("--project", default="coagentnet-example", help="W&B project name")
    parser.add_argument("--dir", default=".", help="where W&B writes its offline runs")
    args = parser.parse_args(argv)

    import wandb  # the example's one extra dependency

    cn.use_cpu_cores()
    size = dict(units=8, epochs=1) if args.tiny else dict(units=64, epochs=20)
    cfg = cn.Config(dataset="digits", rule="reinforce", baseline="ema", batch_size=32, **size)
    configs, seeds = cn.grid(cfg, lr=[2**-9, 2**-7, 2**-5], seed=[0, 1] if args.tiny else [0, 1, 2])

    curves: list[list[tuple[int, dict]]] = [[] for _ in configs]

    def keep(step: int, members: list[dict[str, float]]) -> None:
        for curve, values in zip(curves, members, strict=True):
            curve.append((step, dict(values)))

    results = cn.train_population(configs, seeds, on_evaluation=keep)
    for result, curve in zip(results, curves, strict=True):
        run = wandb.init(
            project=args.project,
            mode="offline",
            dir=args.dir,
            name=f"lr={result.config.lr:g}-seed{result.seed}",
            group="lr-sweep",
            config={**result.config.to_dict(), "seed": result.seed},
        )
        for step, values in curve:
            run.log(values, step=step)
        run.summary["diverged"] = result.diverged
        run.finish()
        print(f"{run.name}: test accuracy {result.final['test/accuracy']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
