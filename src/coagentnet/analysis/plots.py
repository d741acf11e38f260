"""Figures for the studies: each function draws on an ``ax`` it is given and returns it.

matplotlib's Agg backend only (no display is needed, ``plt.show`` is never called). Colours
come from the Okabe-Ito palette, which stays distinguishable under the common colour-vision
deficiencies; lines also differ in marker so that figures survive grey-scale printing.
Inputs are the frames of :mod:`coagentnet.analysis.frames` (``band``: step, mean, se;
``sensitivity``: label, x, mean, se, diverged).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: library code must never need a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

#: Okabe & Ito (2008) colour-blind-safe palette (black last: it is for reference lines).
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: Line styles that tell apart the lines of one method (its layers, its settings of d, ...):
#: they keep the method's colour, and differ in line style and shade (:func:`looks`).
LINESTYLES = ("-", "--", "-.", ":")


def families() -> tuple[str, ...]:
    """The rule families that keep one look across every figure of a report (so a rule is
    recognised from figure to figure), in the order of their looks: every registered rule
    (built-ins first, so their looks never move), then REINFORCE with each baseline
    (``reinforce+ema``, ...)."""
    from coagentnet.model.baselines import BASELINES
    from coagentnet.rules.registry import rule_names

    with_baselines = tuple(f"reinforce+{b}" for b in BASELINES if b != "none")
    return rule_names() + with_baselines


#: The colour of reference lines (chance, the mean predictor): not a method's.
REFERENCE = PALETTE[-1]


def style(i: int) -> dict:
    """Colour and marker of the i-th line: 7 colours (black is kept for references) and 8
    markers cycle independently, so the first 56 looks are distinct."""
    return {"color": PALETTE[i % (len(PALETTE) - 1)], "marker": MARKERS[i % len(MARKERS)]}


def family(label: str) -> str:
    """The rule family of a method label: its first word (``reinforce+ema L=2`` ->
    ``reinforce+ema``)."""
    return label.split(" ", 1)[0]


def fixed_styles(labels) -> dict[str, int]:
    """Label -> style index: each label's rule family's fixed look (:func:`families`) when the
    labels are of distinct known families, else the order of first appearance (lines that are
    settings of one rule: layers, d, K)."""
    labels = list(dict.fromkeys(labels))
    known = families()
    found = [family(label) for label in labels]
    if len(set(found)) == len(found) and set(found) <= set(known):
        return {label: known.index(f) for label, f in zip(labels, found, strict=True)}
    return style_index(labels)


def method_colour(family_name: str, unknown: tuple[str, ...] = ()) -> str:
    """The one method -> colour map every figure uses: a rule family's fixed colour
    (:func:`families`); a name outside them takes its place in ``unknown`` (the figure's
    unknown names in order of appearance)."""
    known = families()
    if family_name in known:
        return style(known.index(family_name))["color"]
    i = unknown.index(family_name) if family_name in unknown else 0
    return style(i)["color"]


def shade(colour: str, amount: float) -> str:
    """``colour`` mixed with white by ``amount`` (0: the colour, 1: white)."""
    from matplotlib.colors import to_hex, to_rgb

    return to_hex([c + (1.0 - c) * amount for c in to_rgb(colour)])


def looks(lines) -> dict[tuple[str, str], dict]:
    """(label, family) pairs -> matplotlib line keywords (``color``, ``marker``, ``ls``).

    Colour and marker are the family's (:func:`method_colour`: one colour per method across
    every figure); the lines of one family (a method's layers, its settings of d) keep that
    colour and differ in line style and shade, from full colour to lighter."""
    lines = list(dict.fromkeys((str(a), str(b)) for a, b in lines))
    known = families()
    unknown = tuple(dict.fromkeys(f for _, f in lines if f not in known))
    members: dict[str, list[str]] = {}
    for label, fam in lines:
        members.setdefault(fam, []).append(label)
    out = {}
    for label, fam in lines:
        colour = method_colour(fam, unknown)
        index = known.index(fam) if fam in known else unknown.index(fam)
        k, n = members[fam].index(label), len(members[fam])
        out[(label, fam)] = {
            "color": shade(colour, 0.55 * k / (n - 1)) if n > 1 else colour,
            "marker": MARKERS[index % len(MARKERS)],
            "ls": LINESTYLES[k % len(LINESTYLES)],
        }
    return out


def reference_line(ax, value: float, label: str) -> None:
    """A dashed horizontal reference (chance accuracy, the mean predictor's MSE)."""
    ax.axhline(value, color=REFERENCE, ls="--", lw=1, alpha=0.7, label=label)


def new_figure(panels: int = 1, *, width: float = 5.0, height: float = 3.8, sharey=False):
    """A figure with ``panels`` axes side by side (a flat list of axes); ``sharey`` gives
    panels that are compared one y-axis."""
    fig, axes = plt.subplots(
        1,
        panels,
        figsize=(width * panels, height),
        squeeze=False,
        constrained_layout=True,
        sharey=sharey,
    )
    return fig, list(axes[0])


def learning_curves(
    ax,
    bands: dict[str, pd.DataFrame],
    *,
    xlabel: str = "updates",
    ylabel: str = "",
    title: str = "",
    log_y: bool = False,
    styles: dict[str, int] | None = None,
    look: dict[str, dict] | None = None,
):
    """Mean curve with a +/- one standard error band per label (``band`` frames).

    ``styles`` maps a label to its style index, so that one method keeps its colour across
    the panels of a figure (default: the order of ``bands``); ``look`` maps a label to its
    line keywords (:func:`looks`) and comes first."""
    for i, (label, b) in enumerate(bands.items()):
        if b.empty:
            continue
        st = _look(label, i, styles, look)
        x, m = b["step"].to_numpy(float), b["mean"].to_numpy(float)
        se = np.nan_to_num(b["se"].to_numpy(float))  # one seed: no band
        every = max(1, len(x) // 8)  # a few markers, not one per evaluation
        ax.plot(x, m, label=label, markevery=every, ms=4, **st)
        ax.fill_between(x, m - se, m + se, color=st["color"], alpha=0.2, linewidth=0)
    if log_y:
        ax.set_yscale("log")
    _finish(ax, xlabel, ylabel, title)
    return ax


def sensitivity_curve(
    ax,
    table: pd.DataFrame,
    x: str,
    *,
    log2: bool = False,
    xlabel: str | None = None,
    ylabel: str = "",
    title: str = "",
    log_y: bool = False,
    styles: dict[str, int] | None = None,
    look: dict[str, dict] | None = None,
):
    """A score against ``x`` with standard-error bars, one line per ``label``.

    Settings where some seeds diverged are ringed in red and annotated with the count, so
    that a diverged run is visible in the figure and not only in the tables.
    """
    for i, (label, g) in enumerate(table.groupby("label", sort=False)):
        g = g.sort_values(x)
        st = _look(label, i, styles, look)
        xs = g[x].to_numpy(float)
        xs = np.log2(xs) if log2 else xs
        ax.errorbar(
            xs,
            g["mean"].to_numpy(float),
            yerr=np.nan_to_num(g["se"].to_numpy(float)),
            label=label,
            capsize=3,
            ms=5,
            **st,
        )
        for xv, yv, d in zip(xs, g["mean"], g["diverged"], strict=True):
            if d:
                y = yv if np.isfinite(yv) else ax.get_ylim()[1]
                ax.plot([xv], [y], "o", mfc="none", mec="#D55E00", ms=11, mew=1.5)
                ax.annotate(f"{int(d)} div.", (xv, y), fontsize=7, color="#D55E00")
    if log_y:
        ax.set_yscale("log")
    _finish(ax, xlabel or (f"log2 {x}" if log2 else x), ylabel, title)
    return ax


def _look(label: str, i: int, styles: dict | None, look: dict | None) -> dict:
    if look and label in look:
        return look[label]
    return style(styles.get(label, i) if styles else i)


def style_index(labels) -> dict[str, int]:
    """Label -> style index in order of first appearance (one colour per label)."""
    return {label: i for i, label in enumerate(dict.fromkeys(labels))}


def _finish(ax, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False)


def save(fig, stem: str | Path, *, dpi: int = 110) -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.svg``; close the figure; return both paths."""
    from coagentnet.atomic import write_files

    stem = Path(stem)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]

    def draw(temps: list[Path]) -> None:  # atomic: a killed report leaves no half figure
        fig.savefig(temps[0], dpi=dpi, format="png")
        fig.savefig(temps[1], format="svg")

    try:
        write_files(paths, draw, option="figure")
    finally:
        plt.close(fig)
    return paths


__all__ = [
    "PALETTE",
    "MARKERS",
    "style",
    "style_index",
    "families",
    "family",
    "fixed_styles",
    "LINESTYLES",
    "method_colour",
    "shade",
    "looks",
    "reference_line",
    "new_figure",
    "learning_curves",
    "sensitivity_curve",
    "save",
]
