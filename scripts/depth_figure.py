"""Headline figure (issue 14, item 6): final greedy test accuracy against depth L, one line
per rule, backprop included, at one budget, from stores of one budget (the quick preset's
``mnist_shallow`` and ``mnist_deep`` stores, or ladder stores; see ``scripts/ladder.py``).

Each point is a method's selected lr at that budget; bars are 95% t intervals over the
seeds. Usage::

    python scripts/depth_figure.py --updates 9900 --out docs/results/depth_digits.png \\
        results/reproduce/quick/mnist_shallow/rules.sqlite \\
        results/reproduce/quick/mnist_deep/critics.sqlite
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd
from ladder import FIXED, ladder

from coagentnet.analysis import plots


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("stores", nargs="+")
    p.add_argument("--updates", type=int, required=True, help="the budget shown")
    p.add_argument("--out", required=True, help="PNG (and SVG) path")
    a = p.parse_args(argv)
    parts = []
    for store in a.stores:
        table, ds, *_ = ladder(store)
        parts.append(table)
    table = pd.concat(parts, ignore_index=True)
    table = table[table["updates"] == a.updates]
    table["rule_label"] = [m.split(" ")[0] for m in table["method"]]
    fig, axes = plots.new_figure(1, width=6.0, height=4.0)
    ax = axes[0]
    for name in FIXED:
        g = table[table["rule_label"] == name].sort_values("layers")
        if g.empty:
            continue
        lo = g["test_final"] - g["test_final_ci_low"]
        hi = g["test_final_ci_high"] - g["test_final"]
        style = plots.style(plots.families().index(name))
        ax.errorbar(g["layers"], g["test_final"], yerr=[lo, hi], label=name, capsize=3, **style)
    plots.reference_line(ax, 0.1, "chance (0.1)")
    ax.set_xticks([1, 2, 3, 4])
    ax.set_xlabel("hidden layers L (64 units each)")
    ax.set_ylabel("final greedy test accuracy")
    n = int(table["n"].min())
    ax.set_title(
        f"{ds}, {a.updates:,} updates, selected lr per point\nbars: 95% t interval, n = {n} seeds"
    )
    ax.legend(fontsize=8)
    plots.save(fig, a.out.removesuffix(".png"))
    print(table[["method", "layers", "test_final", "test_final_ci_low", "test_final_ci_high"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
