"""Figure specifications and how each kind is drawn from an analysed experiment.

A :class:`Fig` says what to show (learning curves, a sensitivity curve, per-layer curves,
or the selected value of a tuned hyperparameter along an axis); :func:`draw` turns it into a
matplotlib figure from :mod:`coagentnet.analysis.frames` frames with
:mod:`coagentnet.analysis.plots`.
Keeping the spec declarative lets ``coagentnet report`` remake every figure from a store.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from coagentnet.analysis.figure_spec import KINDS, Fig
from coagentnet.analysis.frames import Frames, Protocol, Selection, band, sensitivity
from coagentnet.analysis.labels import method_label

_NAMES = {
    "accuracy": "accuracy",
    "loss": "loss",
    "entropy": "mean unit entropy (nats)",
    "on_fraction": "on-fraction",
    "critic_ev_target": "critic explained variance of y_t",  # training split
    "critic_ev_greedy": "critic explained variance of exact G_t",
    "signal_corr_greedy": "corr(actor signal, exact G_t)",
    "grad_var": "update total variance",  # grad_*: train split, layer L is the read-out
    "grad_snr": "update SNR",
    "grad_cos": "cosine with the expected-loss gradient",
    "val_auc": "validation AUC",
    "test_auc": "test AUC",
    "test_final": "final test",
}


def _plots():
    """matplotlib loads on the first figure drawn, not when the studies are listed (every
    command lists them to build its ``--help``)."""
    from coagentnet.analysis import plots

    return plots


def _filter(frame: pd.DataFrame, only: dict) -> pd.DataFrame:
    for key, value in only.items():
        if key in frame.columns:
            frame = frame[frame[key].astype(str) == str(value)]
    return frame


def _panels(frame: pd.DataFrame, facet: str | None) -> list[tuple[str, pd.DataFrame]]:
    if not facet or facet not in frame.columns:
        return [("", frame)]
    values = sorted(frame[facet].unique(), key=lambda v: (str(type(v)), v))
    return [(method_label({facet: v}), frame[frame[facet] == v]) for v in values]


def _family(row, runs: pd.DataFrame, label: str = "") -> str:
    """The rule family (``reinforce+ema``) of a row: its method's colour in every figure
    (:func:`coagentnet.analysis.plots.method_colour`). The rule and baseline come from the
    row, else from the runs when they all share one; else the label's first word."""
    parts = []
    for key in ("rule", "baseline"):
        value = row.get(key) if hasattr(row, "get") else None
        if value is None or (isinstance(value, float) and math.isnan(value)):
            values = runs[key].dropna().unique() if key in runs else ()
            value = values[0] if len(values) == 1 else None
        parts.append(value)
    rule, baseline = parts
    if rule is None:
        return label.split(" ", 1)[0]
    return f"{rule}+{baseline}" if baseline not in (None, "none", "") else str(rule)


def _ylabel(fig: Fig, protocol: Protocol, metric: str) -> str:
    name = _NAMES.get(metric, metric)
    if metric == "loss" and not protocol.maximize:
        name = "MSE"  # scored by a loss, not accuracy: a regression study
    if fig.kind == "sensitivity":
        return f"{_NAMES.get(fig.score, fig.score)} {name}".strip()
    return f"{fig.split} {name}"


def _suptitle(figure, title: str, caption: str = "") -> None:
    """The figure's title and caption (what a band or bar is, over how many seeds), wrapped
    to its width (a long title must not be cut off)."""
    import textwrap

    width = max(30, int(figure.get_size_inches()[0] * 11))
    text = textwrap.fill(title, width=width)
    if caption:
        text += "\n" + textwrap.fill(caption, width=width)
    figure.suptitle(text, fontsize=10)


def _seeds(selection: Selection) -> str:
    """``n = 5 seeds`` (or ``n = 3-5 seeds`` where methods differ) at the selected settings."""
    n = selection.table["n"] if "n" in selection.table else pd.Series(dtype=float)
    if n.empty:
        return "n unknown"
    low, high = int(n.min()), int(n.max())
    return f"n = {low} seeds" if low == high else f"n = {low}-{high} seeds"


def _reference(runs: pd.DataFrame, protocol: Protocol, metric: str):
    """The reference line of ``metric`` (chance, the mean predictor) for the runs' data set,
    or None when they mix data sets or none applies."""
    from coagentnet.analysis.references import reference_line

    if "dataset" not in runs or runs["dataset"].nunique() != 1:
        return None
    load = {}
    for key in ("data_dir", "split_seed", "normalize"):
        if key in runs and runs[key].nunique() == 1:
            value = runs[key].iloc[0]
            load[key] = None if isinstance(value, float) and math.isnan(value) else value
    return reference_line(runs["dataset"].iloc[0], metric, protocol.maximize, **load)


def draw(fig: Fig, frames: Frames, selection: Selection, protocol: Protocol):
    """The matplotlib figure for ``fig``, or None when the data needed are absent."""
    metric = fig.metric or protocol.metric
    method = selection.method
    if fig.kind == "curves":
        return _curves(fig, frames, selection, protocol, metric, method)
    if fig.kind == "layers":
        return _layers(fig, frames, selection, metric, method)
    if fig.kind == "sensitivity":
        if fig.x not in frames.runs.columns or fig.x not in (*method, *selection.tune):
            return None  # the axis does not vary in this store
        table = sensitivity(frames, selection, fig.x, protocol, fig.score)
        table = _filter(table, fig.only)
        drop = (fig.x, fig.facet)
        table = table.assign(label=[selection.label(r, drop) for r in table.to_dict("records")])
        table["label"] = _edge_labels(table, selection, fig.x)
        table["family"] = [_family(r, selection.runs, r["label"]) for r in table.to_dict("records")]
        looks = _plots().looks(zip(table["label"], table["family"], strict=True))
        panels = _panels(table, fig.facet)
        out, axes = _plots().new_figure(len(panels), sharey=True)
        reference = _reference(selection.runs, protocol, metric)
        for ax, (title, part) in zip(axes, panels, strict=True):
            if reference:
                _plots().reference_line(ax, *reference)
            _plots().sensitivity_curve(
                ax,
                part,
                fig.x,
                log2=fig.log2,
                ylabel=_ylabel(fig, protocol, metric),
                title=title,
                log_y=fig.log_y,
                look=_panel_look(looks, part),
            )
        _suptitle(out, fig.title, f"bars: +/- 1 standard error over the seeds, {_seeds(selection)}")
        return out
    return _selected(fig, selection)


def _curves(fig, frames, selection, protocol, metric, method):
    runs = _filter(selection.runs, fig.only)
    if runs.empty:
        return None
    panels = _panels(runs, fig.facet)
    out, axes = _plots().new_figure(len(panels), sharey=True)
    keys = [fig.line] if fig.line else [m for m in method if m != fig.facet]
    lines = []
    drawn = []
    for ax, (title, part) in zip(axes, panels, strict=True):
        bands, families = {}, {}
        for values, g in part.groupby(keys, sort=False) if keys else [((), part)]:
            values = values if isinstance(values, tuple) else (values,)
            row = dict(zip(keys, values, strict=True))
            label = method_label(row) if fig.line else selection.label(row, (fig.facet,))
            # A diverged run's last evaluation can be astronomically large (finite params,
            # exploding output): bands are over the seeds that did not diverge, and the
            # legend says how many did.
            diverged = int(g["diverged"].sum())
            if diverged:
                label += f" ({diverged} of {len(g)} diverged)"
            bands[label] = band(frames, g.loc[~g["diverged"], "run"], fig.split, metric)
            families[label] = _family(g.iloc[0].to_dict(), runs, label)
            lines.append((label, families[label]))
        drawn.append((ax, title, bands, families))
    looks = _plots().looks(lines)  # one method, one colour, in every panel
    reference = _reference(runs, protocol, metric)
    for ax, title, bands, families in drawn:
        if reference:
            _plots().reference_line(ax, *reference)
        ylabel = _ylabel(fig, protocol, metric)
        look = {label: looks[(label, f)] for label, f in families.items()}
        _plots().learning_curves(ax, bands, ylabel=ylabel, title=title, log_y=fig.log_y, look=look)
    caption = f"lines: mean, bands: +/- 1 standard error over the seeds, {_seeds(selection)}"
    _suptitle(out, fig.title, caption)
    return out


def _layers(fig, frames, selection, metric, method):
    runs = _filter(selection.runs, fig.only)
    m = frames.metrics
    has = m[(m["metric"] == metric) & (m["split"] == fig.split) & m["layer"].notna()]
    if runs.empty or has.empty:
        return None
    # A panel per method that has the metric: a rule without it (backprop has no unit
    # entropy, REINFORCE no critic) gets no empty panel.
    panels = []
    for label in dict.fromkeys(runs["label"]):
        ids = runs.loc[(runs["label"] == label) & ~runs["diverged"], "run"]
        layers = sorted(has.loc[has["run"].isin(set(ids)), "layer"].unique())
        if layers:
            first = runs[runs["label"] == label].iloc[0].to_dict()
            panels.append((label, ids, layers, _family(first, runs, label)))
    if not panels:
        return None
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    out, axes = _plots().plt.subplots(
        rows,
        cols,
        figsize=(5.0 * cols, 3.8 * rows),
        squeeze=False,
        constrained_layout=True,
        sharey=True,  # panels are methods, compared on one scale
    )
    flat = list(axes.ravel())
    for ax, (label, ids, layers, fam) in zip(flat, panels, strict=False):
        bands = {f"layer {int(t)}": band(frames, ids, fig.split, metric, int(t)) for t in layers}
        # the method's colour; its layers told apart by line style and shade
        looks = _plots().looks((name, fam) for name in bands)
        _plots().learning_curves(
            ax,
            bands,
            ylabel=_NAMES.get(metric, metric),
            title=label,
            log_y=fig.log_y,
            look={name: looks[(name, fam)] for name in bands},
        )
    for ax in flat[len(panels) :]:
        ax.set_visible(False)
    _suptitle(out, fig.title, f"bands: +/- 1 standard error over the seeds, {_seeds(selection)}")
    return out


def _panel_look(looks: dict, part: pd.DataFrame) -> dict[str, dict]:
    """The looks of one panel's lines, by label (a label names one family per panel)."""
    pairs = zip(part["label"], part["family"], strict=True)
    return {label: looks[(label, fam)] for label, fam in pairs}


def _edge_labels(table: pd.DataFrame, selection: Selection, x: str) -> list[str]:
    """Legend labels of a sensitivity figure: a method whose selected ``x`` is at an end of
    its grid is marked, as its table row is (``at_grid_edge``)."""
    method = [m for m in selection.method if m in table.columns]
    edged = {
        tuple(str(r[m]) for m in method)
        for r in selection.table.to_dict("records")
        if x in str(r.get("at_grid_edge", "")).split(",")
    }
    return [
        f"{r['label']} (selected {x} at grid edge)"
        if tuple(str(r[m]) for m in method) in edged
        else r["label"]
        for r in table.to_dict("records")
    ]


def _selected(fig, selection):
    table = _filter(selection.table, fig.only)
    if fig.param not in table.columns or fig.x not in table.columns:
        return None
    table = table.assign(
        label=[selection.label(r, (fig.x,)) for r in table.to_dict("records")],
        mean=np.log2(table[fig.param].astype(float)) if fig.log2 else table[fig.param],
        se=np.nan,
    )
    families = [_family(r, selection.runs, r["label"]) for r in table.to_dict("records")]
    looks = _plots().looks(zip(table["label"], families, strict=True))
    out, (ax,) = _plots().new_figure(1)
    ylabel = f"selected log2 {fig.param}" if fig.log2 else f"selected {fig.param}"
    _plots().sensitivity_curve(
        ax, table, fig.x, ylabel=ylabel, title="", look={k[0]: v for k, v in looks.items()}
    )
    _suptitle(out, fig.title)
    return out


__all__ = ["Fig", "KINDS", "draw"]
