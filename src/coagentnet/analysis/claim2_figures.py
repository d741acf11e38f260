"""Claim-2 figures per arm, from a store or committed records (the paper's Figure 4 panels):

- ``<arm>-accuracy``: greedy test accuracy against updates, log x, mean +/- SE over seeds;
- ``<arm>-layers``: per hidden layer, the mean unit entropy (top row) and the greedy
  on-fraction (bottom row) on the training split against updates, log x (the split the
  ``mnist_deep`` study's entropy figures use).

One colour per rule: the project's fixed rule looks (``plots.fixed_styles``); the accuracy
panel has the chance line.
Step 0 (before any update) cannot sit on a log axis and is left out of the curves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from coagentnet.analysis import plots
from coagentnet.analysis.claim2 import ARM_FIELDS, RULES, arm_name, arms
from coagentnet.analysis.references import reference_line
from coagentnet.training.results import metric_rows_frame


def _band(source, runs: list[dict], split: str, metric: str, layer: int | None) -> pd.DataFrame:
    """step, mean, se over the runs' curves of ``split``/``metric``/``layer`` (steps > 0)."""
    frames = []
    for run in runs:
        f = metric_rows_frame(source.metrics(run["id"]))
        keep = (f["split"] == split) & (f["metric"] == metric) & (f["step"] > 0)
        keep &= f["layer"].isna() if layer is None else (f["layer"] == layer).fillna(False)
        frames.append(f.loc[keep, ["step", "value"]])
    if not frames:
        return pd.DataFrame(columns=["step", "mean", "se"])
    g = pd.concat(frames).groupby("step")["value"]
    out = pd.DataFrame({"mean": g.mean(), "se": g.std(ddof=1) / np.sqrt(g.count())})
    return out.reset_index()


def arm_figures(source, out: str | Path) -> list[Path]:
    """Write both figures of every arm of ``source`` into ``out`` (PNG and SVG); return the
    paths written."""
    out = Path(out)
    written = []
    styles = plots.fixed_styles(RULES)
    for key, by_rule in arms(source).items():
        name = arm_name(key)
        fig, (ax,) = plots.new_figure(1, width=5.0, height=3.6)
        bands = {rule: _band(source, by_rule[rule], "test", "accuracy", None) for rule in by_rule}
        dataset = dict(zip(ARM_FIELDS, key, strict=True))["dataset"]
        chance = reference_line(str(dataset), "accuracy", True)
        if chance:
            plots.reference_line(ax, *chance)
        plots.learning_curves(ax, bands, ylabel="test accuracy (greedy)", title=name, styles=styles)
        ax.set_xscale("log")
        written += plots.save(fig, out / f"{name}-accuracy")
        layers = int(key[1])
        fig, axes = plt_grid(layers)
        for layer in range(layers):
            for row, metric in enumerate(("entropy", "on_fraction")):
                bands = {
                    rule: _band(source, by_rule[rule], "train", metric, layer) for rule in by_rule
                }
                ax = axes[row][layer]
                plots.learning_curves(
                    ax, bands, ylabel=f"{metric} (train)", title=f"layer {layer + 1}",
                    styles=styles,
                )  # fmt: skip
                ax.set_xscale("log")
        fig.suptitle(name, fontsize=10)
        written += plots.save(fig, out / f"{name}-layers")
    return written


def plt_grid(layers: int):
    """A 2 x ``layers`` grid of axes (entropy above on-fraction, one column per layer)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        2, layers, figsize=(3.6 * layers, 5.6), squeeze=False, constrained_layout=True
    )
    return fig, axes


__all__ = ["arm_figures"]
