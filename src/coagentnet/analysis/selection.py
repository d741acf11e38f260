"""The selection protocol: per method, the setting with the best validation score, and the
test numbers at that setting only.

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

import numpy as np
import pandas as pd

from coagentnet.analysis.curves import run_scores
from coagentnet.analysis.labels import method_label
from coagentnet.analysis.stats import interval, mean_se
from coagentnet.analysis.store_frames import Frames, default_tune, varying

#: Seed of every bootstrap interval in tables and reports (explicit, so reports repeat).
BOOTSTRAP_SEED = 0


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
