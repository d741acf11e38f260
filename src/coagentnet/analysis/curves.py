"""Reading the metrics frame: one metric's curve per run, one score per run (area under the
curve or final value), and the mean ± standard error band over runs at each step.
"""

from __future__ import annotations

import math

import pandas as pd

from coagentnet.analysis.stats import area_under_curve, mean_se, tail_mean
from coagentnet.analysis.store_frames import Frames


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
