"""A results store read into pandas, and a figure drawn from it.

A store is what ``coagentnet sweep FILE`` or ``coagentnet train --store PATH`` writes. Without
``--store`` this script first makes one: ``train --store`` over three learning rates.

    python examples/store_to_pandas.py --tiny                 # makes a tiny store, seconds
    python examples/store_to_pandas.py --store results/digits_lr.sqlite --out lr.png

Prints the runs frame (one row per run, config fields as columns) and writes a PNG of the
validation accuracy against updates, one line per learning rate (mean over seeds).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import coagentnet as cn


def make_store(path: Path, tiny: bool) -> None:
    from coagentnet.cli import main

    size = ["--units", "8", "--epochs", "1", "--seeds", "2"] if tiny else ["--seeds", "3"]
    argv = ["train", "--dataset", "digits", "--lr", "2^-9,2^-7,2^-5", "--store", str(path)]
    if main([*argv, *size, "-q"]) != 0:
        raise SystemExit(f"training into {path} failed")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="a results store (default: make one)")
    parser.add_argument("--tiny", action="store_true", help="make a tiny store (8 units, 1 epoch)")
    parser.add_argument("--out", default="store_to_pandas.png", help="the figure (PNG)")
    args = parser.parse_args(argv)

    path = Path(args.store or "store_to_pandas.sqlite")
    if not args.store:
        make_store(path, args.tiny)
    with cn.open_store(path) as store:
        runs = cn.runs_frame(store)  # one row per complete run
        metrics = cn.metrics_frame(store)  # long: run, step, split, metric, layer, value
    print(runs[["run", "seed", "rule", "lr", "units", "epochs", "diverged"]].to_string())

    curves = (
        metrics.query("split == 'validation' and metric == 'accuracy'")
        .merge(runs[["run", "lr"]], on="run")
        .groupby(["lr", "step"])["value"]
        .mean()
        .unstack("lr")
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for lr in curves.columns:
        ax.plot(curves.index, curves[lr], marker="o", label=f"lr = {lr:g}")
    ax.set(xlabel="updates", ylabel="validation accuracy", title=f"{path.name}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
