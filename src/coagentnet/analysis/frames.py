"""From a results store to pandas frames, per-run scores, and the selection of settings.

The contract (as rliable's): a **runs** frame with one row per complete run (``run`` id,
``seed``, ``diverged`` and every config field as a column) and a **metrics** frame in long
format (``run, step, split, metric, layer, value``). Everything else is computed from these
two, so a test can build them by hand.

Protocol (as in Gupta et al. 2021): a *method* is a configuration with its tuned hyperparameters
left out (by default the varying population scalars: lr, unit_std, ...); for each method the
setting with the best area under the **validation** curve is selected, and the **test** numbers
are reported at that setting only. Diverged runs are never dropped: a setting is ranked by its
number of diverged seeds first (fewer is better), then by its mean validation area, and every
table carries a ``diverged`` count next to statistics taken over the seeds that did not diverge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from coagentnet.analysis.labels import method_label
from coagentnet.analysis.stats import area_under_curve, interval, mean_se, tail_mean
from coagentnet.config import POPULATION_SCALARS

#: Seed of every bootstrap interval in tables and reports (explicit, so reports repeat).
BOOTSTRAP_SEED = 0
METRIC_COLUMNS = ("run", "step", "split", "metric", "layer", "value")
#: Columns of the runs frame that are not config fields.
RUN_INFO = ("run", "seed", "status", "diverged", "wall_time_s", "updates", "device", "versions")


@dataclass
class Frames:
    """The runs frame and the long metrics frame of one experiment."""

    runs: pd.DataFrame
    metrics: pd.DataFrame

    @property
    def config_columns(self) -> list[str]:
        return [c for c in self.runs.columns if c not in RUN_INFO]

    def subset(self, run_ids) -> Frames:
        ids = set(run_ids)
        return Frames(
            self.runs[self.runs["run"].isin(ids)].reset_index(drop=True),
            self.metrics[self.metrics["run"].isin(ids)].reset_index(drop=True),
        )


def load(store, ids: Sequence[str] | None = None) -> Frames:
    """Frames of the complete (done or diverged) runs of a store (a Store or a path)."""
    from coagentnet.sweeps.store import COMPLETE, Store

    own = not hasattr(store, "runs")
    if own:
        store = Store(Path(store), readonly=True)
    try:
        rows, metric_parts = [], []
        for rec in store.runs(ids):
            if rec["status"] not in COMPLETE:
                continue  # pending or failed runs have no metrics; the report counts them
            rows.append(
                {
                    "run": rec["id"],
                    "seed": rec["seed"],
                    "status": rec["status"],
                    "diverged": rec["status"] == "diverged",
                    "wall_time_s": rec["wall_time_s"],
                    "updates": rec["updates"],
                    "device": rec["device"],
                    "versions": rec["versions"],
                    **rec["config"],
                }
            )
            m = store.metrics(rec["id"])
            if m:
                part = pd.DataFrame(m, columns=METRIC_COLUMNS[1:])
                part.insert(0, "run", rec["id"])
                metric_parts.append(part)
    finally:
        if own:
            store.close()
    runs = pd.DataFrame(rows, columns=None if rows else list(RUN_INFO))
    metrics = (
        pd.concat(metric_parts, ignore_index=True)
        if metric_parts
        else pd.DataFrame(columns=list(METRIC_COLUMNS))
    )
    return Frames(runs, metrics)


def varying(runs: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    """Config columns that take more than one value among the runs (in column order)."""
    out = []
    for col in runs.columns:
        if col in RUN_INFO or col in exclude:
            continue
        if runs[col].astype(str).nunique() > 1:
            out.append(col)
    return out


def default_tune(runs: pd.DataFrame) -> list[str]:
    """Hyperparameters selected per method by default: the population scalars that vary."""
    return [c for c in varying(runs) if c in POPULATION_SCALARS]


def curve(frames: Frames, split: str, metric: str, layer: int | None = None) -> pd.DataFrame:
    """Rows ``run, step, value`` of one metric (one layer of a per-layer metric), by step."""
    m = frames.metrics
    sel = (m["split"] == split) & (m["metric"] == metric)
    sel &= m["layer"].isna() if layer is None else (m["layer"] == layer)
    return m.loc[sel, ["run", "step", "value"]].sort_values(["run", "step"], kind="stable")


def run_scores(
    frames: Frames, split: str, metric: str, how: str = "auc", last: int | float = 1
) -> pd.Series:
    """One number per run (indexed by run id): ``auc`` (normalised area under the curve,
    :func:`~coagentnet.analysis.stats.area_under_curve`) or ``final`` (mean of the last ``last``
    evaluations; a float in (0, 1): that fraction of the evaluations after step 0).
    A diverged run, or one without the metric, scores NaN."""
    if how not in ("auc", "final"):
        raise ValueError(f"how: expected 'auc' or 'final', got {how!r}")
    rows = curve(frames, split, metric)
    groups = {run: g for run, g in rows.groupby("run", sort=False)}
    out = {}
    for run, diverged in zip(frames.runs["run"], frames.runs["diverged"], strict=True):
        g = groups.get(run)
        if diverged or g is None:
            out[run] = math.nan
        elif how == "auc":
            out[run] = area_under_curve(g["step"], g["value"])
        else:
            out[run] = tail_mean(g["step"], g["value"], _count(last, len(g)))
    return pd.Series(out, name=f"{split}/{metric}/{how}", dtype=float)


def _count(last: int | float, points: int) -> int:
    """Evaluations in the final window: a count, or a fraction of those after step 0."""
    if isinstance(last, float) and 0.0 < last < 1.0:
        return max(1, round(last * (points - 1)))
    return int(last)


def _stats(values: pd.Series, diverged: pd.Series, seed: int) -> dict:
    ok = values[~diverged.to_numpy()]
    mean, se = mean_se(ok.tolist())
    lo, hi, kind = interval(ok.tolist(), seed=seed)
    return {"mean": mean, "se": se, "ci_low": lo, "ci_high": hi, "ci": kind}


def summarize(
    runs: pd.DataFrame, scores: pd.Series, by: Sequence[str], seed: int = BOOTSTRAP_SEED
) -> pd.DataFrame:
    """Per setting (the ``by`` columns): seeds ``n``, ``diverged`` count, and mean, standard
    error and 95% interval (``ci``: ``t`` below 10 seeds, else ``bootstrap``) of the scores
    over the seeds that did not diverge."""
    by = list(by)
    frame = runs[["run", "diverged", *by]].copy()
    frame["score"] = frame["run"].map(scores).astype(float)
    out = []
    # sort=False: settings keep the order of their first run (the sweep file's order).
    groups = frame.groupby(by, sort=False, dropna=False) if by else [((), frame)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row["n"] = len(g)
        row["diverged"] = int(g["diverged"].sum())
        row.update(_stats(g["score"], g["diverged"], seed))
        out.append(row)
    columns = [*by, "n", "diverged", "mean", "se", "ci_low", "ci_high", "ci"]
    return pd.DataFrame(out, columns=columns)


def grid_edges(grid: pd.DataFrame, row, method: Sequence[str], tune: Sequence[str]) -> list[str]:
    """The tuned keys whose selected value (in ``row``) is the smallest or largest value the
    method's grid tried: the best setting may lie outside the grid. A key the method tried at
    one value only is no selection and is never flagged."""
    mine = grid[_match(grid, row, method)]
    edges = []
    for t in tune:
        values = pd.to_numeric(mine[t], errors="coerce").dropna().unique()
        if len(values) < 2:
            continue
        v = float(row[t])
        if v in (values.min(), values.max()):
            edges.append(t)
    return edges


def select(summary: pd.DataFrame, method: Sequence[str], maximize: bool) -> pd.DataFrame:
    """The best setting per method: fewest diverged seeds, then best mean (NaN means last).

    ``summary`` is :func:`summarize`'s output over method + tuned columns; returns one of its
    rows per method, in method order.
    """
    method = list(method)
    s = summary.copy()
    # A sort key where smaller is better; NaN (every seed diverged or missing) ranks last.
    s["_key"] = (-s["mean"] if maximize else s["mean"]).fillna(math.inf)
    s = s.sort_values([*method, "diverged", "_key"], kind="stable")
    best = s.groupby(method, sort=False, dropna=False).head(1) if method else s.head(1)
    # Methods in the order of the summary's rows (callers pass sweep order).
    return best.drop(columns="_key").sort_index().reset_index(drop=True)


@dataclass(frozen=True)
class Protocol:
    """How one experiment is scored: the metric, which way is better, the tuned keys."""

    metric: str = "accuracy"
    maximize: bool = True
    tune: tuple[str, ...] | None = None
    """Hyperparameters selected per method; None: the varying population scalars."""
    final_last: int | float = 1
    """Test "final" is the mean of the last this-many evaluations (1: the final one); a float
    in (0, 1) is a fraction of the evaluations after step 0 (the paper's "last 20 of 100
    epochs" is 0.2), so that one spec serves presets of different lengths."""
    select_split: str = "validation"
    report_split: str = "test"

    @staticmethod
    def for_frames(frames: Frames, **kw) -> Protocol:
        """The default protocol for a store: accuracy if it was recorded, else loss."""
        has_acc = (frames.metrics["metric"] == "accuracy").any()
        kw.setdefault("metric", "accuracy" if has_acc else "loss")
        kw.setdefault("maximize", kw["metric"] == "accuracy")
        return Protocol(**kw)


@dataclass
class Selection:
    """The outcome of the protocol on one experiment.

    ``table``: one row per method: the method's columns, the selected tuned values, ``label``,
    ``n`` seeds and ``diverged`` at that setting, ``diverged_any`` over all its settings,
    ``val_auc`` / ``test_auc`` / ``test_final`` means with ``_se`` (and for ``test_final``
    ``_ci_low``/``_ci_high`` and the interval's kind ``ci``), ``at_grid_edge`` (the tuned keys
    selected at an end of their grid, comma-separated; "" for none); ``grid``: the validation
    summary of every setting; ``runs``: the runs at the selected settings with their method
    ``label``.
    """

    method: list[str]
    tune: list[str]
    table: pd.DataFrame
    grid: pd.DataFrame
    runs: pd.DataFrame
    label_keys: tuple[str, ...] | None = None
    """Method columns shown in labels (None: all)."""

    def label(self, row, drop: Sequence[str] = ()) -> str:
        """The label of a row (a mapping with the method columns), without ``drop``."""
        keys = [k for k in self.method if k not in drop]
        if self.label_keys is not None:
            keys = [k for k in keys if k in self.label_keys]
        return method_label({k: row[k] for k in keys})


def analyse(
    frames: Frames,
    protocol: Protocol,
    method: Sequence[str] | None = None,
    label_keys: Sequence[str] | None = None,
) -> Selection:
    """Select per method on validation AUC; report test at the selected setting.

    ``method``: the columns that name a method; default: every varying config column that
    is not tuned. ``label_keys``: the method columns shown in labels (default: all).
    """
    label_keys = None if label_keys is None else tuple(label_keys)
    runs = frames.runs
    wanted = default_tune(runs) if protocol.tune is None else protocol.tune
    tune = [t for t in wanted if t in runs.columns]
    method = list(method) if method is not None else varying(runs, exclude=tune)
    tune = [t for t in tune if t not in method]
    metric = protocol.metric
    val = run_scores(frames, protocol.select_split, metric, "auc")
    grid = summarize(runs, val, [*method, *tune])
    best = select(grid, method, protocol.maximize)
    per_method = summarize(runs, val, method) if method else None
    test_auc = run_scores(frames, protocol.report_split, metric, "auc")
    test_final = run_scores(frames, protocol.report_split, metric, "final", protocol.final_last)
    rows, chosen = [], []
    for b in best.to_dict("records"):  # records keep each column's type
        sel = runs[_match(runs, b, [*method, *tune])]
        keys = [k for k in method if label_keys is None or k in label_keys]
        label = method_label({k: b[k] for k in keys})
        row = {k: b[k] for k in (*method, *tune)}
        row.update(label=label, n=int(b["n"]), diverged=int(b["diverged"]))
        row["at_grid_edge"] = ",".join(grid_edges(grid, b, method, tune))
        if per_method is None:
            row["diverged_any"] = int(runs["diverged"].sum())
        else:
            row["diverged_any"] = int(per_method[_match(per_method, b, method)]["diverged"].sum())
        row["val_auc"], row["val_auc_se"] = b["mean"], b["se"]
        for name, scores in (("test_auc", test_auc), ("test_final", test_final)):
            st = _stats(sel["run"].map(scores), sel["diverged"], BOOTSTRAP_SEED)
            row[name], row[f"{name}_se"] = st["mean"], st["se"]
        row["test_final_ci_low"], row["test_final_ci_high"] = st["ci_low"], st["ci_high"]
        row["ci"] = st["ci"]
        rows.append(row)
        chosen.append(sel.assign(label=label))
    table = pd.DataFrame(rows)
    sel_runs = pd.concat(chosen, ignore_index=True) if chosen else runs.iloc[:0]
    return Selection(method, tune, table, grid, sel_runs, label_keys)


def _match(frame: pd.DataFrame, row, keys) -> np.ndarray:
    """Rows of ``frame`` equal to ``row`` on ``keys``. Values are compared as values, not as
    text (a row taken out of a frame may turn the int 1 into the float 1.0); None/NaN match
    missing values."""
    mask = np.ones(len(frame), bool)
    for k in keys:
        v = row[k]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            mask &= frame[k].isna().to_numpy()
        else:
            mask &= np.fromiter((x == v for x in frame[k]), bool, len(frame))
    return mask


def band(frames: Frames, run_ids, split: str, metric: str, layer=None) -> pd.DataFrame:
    """Mean and standard error over runs at each step: ``step, mean, se, n``.

    A diverged run contributes the evaluations it has (it stops at divergence)."""
    c = curve(frames, split, metric, layer)
    c = c[c["run"].isin(set(run_ids))]
    out = []
    for step, g in c.groupby("step", sort=True):
        mean, se = mean_se(g["value"].tolist())
        out.append({"step": step, "mean": mean, "se": se, "n": len(g)})
    return pd.DataFrame(out, columns=["step", "mean", "se", "n"])


def sensitivity(
    frames: Frames,
    selection: Selection,
    x: str,
    protocol: Protocol,
    score: str = "val_auc",
) -> pd.DataFrame:
    """A score against one axis ``x``, one row per (method without x, x value).

    If ``x`` is tuned (lr, unit_std), every other tuned key is selected per (method, x) on
    validation, as the protocol does; otherwise ``x`` is part of the method and the selected
    table is used directly. ``score`` is ``val_auc``, ``test_auc`` or ``test_final``.
    Columns: the other method columns, ``x``, ``label``, ``mean``, ``se``, ``n``, ``diverged``.
    """
    if x not in frames.runs.columns:
        raise KeyError(f"no config column {x!r}")
    method = [m for m in selection.method if m != x]
    table = selection.table
    if x in selection.tune:
        tune = tuple(t for t in selection.tune if t != x)
        per_x = Protocol(**{**protocol.__dict__, "tune": tune})
        table = analyse(frames, per_x, [*method, x], selection.label_keys).table
    out = table[[*method, x, "n", "diverged"]].copy()
    out["label"] = [selection.label(r, drop=(x,)) for r in table.to_dict("records")]
    out["mean"], out["se"] = table[score], table[f"{score}_se"]
    return out.sort_values([*method, x], kind="stable").reset_index(drop=True)


__all__ = [
    "BOOTSTRAP_SEED",
    "grid_edges",
    "Frames",
    "Protocol",
    "Selection",
    "analyse",
    "band",
    "curve",
    "default_tune",
    "load",
    "run_scores",
    "select",
    "sensitivity",
    "summarize",
    "varying",
]
