"""Probability of improvement between methods (Agarwal et al., "Deep Reinforcement Learning at
the Edge of the Statistical Precipice", NeurIPS 2021; rliable's ``probability_of_improvement``).

P(X > Y) for one run X of method x and one run Y of method y, drawn independently: the
Mann-Whitney U statistic over all pairs of runs divided by n_x n_y, ties counting one half.
Its 95% interval is a percentile bootstrap that resamples each method's runs with replacement,
with a fixed seed (:data:`~coagentnet.analysis.selection.BOOTSTRAP_SEED`), as rliable does for one
task. For a loss (lower is better) the comparison is on the negated values.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from coagentnet.analysis.curves import run_scores
from coagentnet.analysis.selection import BOOTSTRAP_SEED, Protocol, Selection
from coagentnet.analysis.store_frames import Frames

__all__ = ["improvement_table", "probability_of_improvement"]


def _poi(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) + P(X = Y) / 2 over every pair; ``x`` ``[..., n]`` and ``y`` ``[..., m]``."""
    diff = x[..., :, None] - y[..., None, :]
    return np.mean((diff > 0) + 0.5 * (diff == 0), axis=(-2, -1))


def probability_of_improvement(
    x, y, *, reps: int = 2000, seed: int = BOOTSTRAP_SEED, level: float = 0.95
) -> tuple[float, float, float]:
    """``(P(X > Y), ci_low, ci_high)`` for the values ``x`` and ``y`` (higher is better).
    NaN values (diverged runs) are left out; NaN throughout if either side has no value."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if not len(x) or not len(y):
        return (float("nan"),) * 3
    rng = np.random.default_rng(seed)
    xs = x[rng.integers(0, len(x), (reps, len(x)))]
    ys = y[rng.integers(0, len(y), (reps, len(y)))]
    boot = _poi(xs, ys)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    return float(_poi(x, y)), float(low), float(high)


def improvement_table(frames: Frames, sel: Selection, protocol: Protocol) -> pd.DataFrame:
    """Every pair of methods at their selected settings, on the final test value: columns
    ``method``, ``over``, ``P(improvement)``, ``ci_low``, ``ci_high``, ``n``, ``n_over``
    (runs with a value)."""
    scores = run_scores(
        frames, protocol.report_split, protocol.metric, "final", protocol.final_last
    )
    sign = 1.0 if protocol.maximize else -1.0
    values = {
        label: sign * group["run"].map(scores).to_numpy(float)
        for label, group in sel.runs.groupby("label", sort=False)
    }
    rows = []
    for a, b in combinations(values, 2):
        poi, low, high = probability_of_improvement(values[a], values[b])
        n_a, n_b = (int(np.sum(~np.isnan(values[k]))) for k in (a, b))
        rows.append({"method": a, "over": b, "P(improvement)": poi, "ci_low": low,
                     "ci_high": high, "n": n_a, "n_over": n_b})  # fmt: skip
    return pd.DataFrame(rows)
