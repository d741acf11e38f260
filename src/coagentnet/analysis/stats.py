"""Summary statistics over seeds: mean and standard error, intervals, curve areas.

Intervals of a mean over seeds (:func:`interval`) are Student's t intervals below
:data:`BOOTSTRAP_MIN_N` seeds (a percentile bootstrap of 3-9 values is too narrow: it cannot
see beyond the values drawn) and percentile bootstrap intervals from that many seeds up; the
kind is returned with the bounds so that every table can say which it shows.

These are plain functions over arrays so that they can be checked against hand-made inputs
with known answers (``tests/test_stats.py``). Non-finite values are a diverged run's mark:
they are left out of means and intervals here, and the callers (``coagentnet.analysis.frames``)
count diverged runs separately so that they are reported, never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as _scipy_stats

BOOTSTRAP_MIN_N = 10
"""From this many finite values up, :func:`interval` bootstraps; below it uses Student's t."""


def _finite(values: Sequence[float]) -> np.ndarray:
    xs = np.asarray(values, dtype=float).ravel()
    return xs[np.isfinite(xs)]


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error (sample std with ddof=1 over sqrt(n)); SE is NaN for n < 2.

    Non-finite values (a diverged run's NaN) are excluded; callers count diverged runs apart.
    """
    xs = [float(v) for v in values if math.isfinite(v)]
    n = len(xs)
    if n == 0:
        return math.nan, math.nan
    mean = sum(xs) / n
    if n < 2:
        return mean, math.nan
    var = sum((x - mean) ** 2 for x in xs) / (n - 1)
    return mean, math.sqrt(var / n)


def bootstrap_ci(
    values: Sequence[float],
    *,
    seed: int,
    confidence: float = 0.95,
    resamples: int = 10_000,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean over seeds.

    The ``seed`` is required (no hidden global random state): the same call always gives the
    same interval. Resamples draw n values with replacement from the n finite values.
    With one value the interval is that value; with none it is (NaN, NaN).

    Args:
      values: one number per seed; non-finite entries are excluded.
      seed: seed of the resampling generator.
      confidence: central probability of the interval, in (0, 1).
      resamples: number of bootstrap resamples.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence!r}")
    xs = _finite(values)
    if xs.size == 0:
        return math.nan, math.nan
    if xs.size == 1:
        return float(xs[0]), float(xs[0])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, xs.size, size=(resamples, xs.size))
    means = xs[idx].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [tail, 1.0 - tail])
    return float(lo), float(hi)


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Student's t interval of the mean: mean +/- t_{(1+c)/2, n-1} * SE over the n finite
    values. It assumes the per-seed scores are roughly normal; (NaN, NaN) for n < 2.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence!r}")
    mean, se = mean_se(values)
    n = _finite(values).size
    if n < 2:
        return math.nan, math.nan
    half = float(_scipy_stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
    return mean - half, mean + half


def interval(
    values: Sequence[float], *, seed: int, confidence: float = 0.95
) -> tuple[float, float, str]:
    """The interval of the mean reported in tables: ``(low, high, kind)`` where ``kind`` is
    ``"t"`` (Student's t, fewer than :data:`BOOTSTRAP_MIN_N` finite values) or
    ``"bootstrap"`` (percentile bootstrap with generator ``seed``)."""
    if _finite(values).size < BOOTSTRAP_MIN_N:
        return (*t_interval(values, confidence), "t")
    return (*bootstrap_ci(values, seed=seed, confidence=confidence), "bootstrap")


def area_under_curve(steps: Sequence[float], values: Sequence[float]) -> float:
    """Normalised area under a learning curve: the trapezoid integral over the step span
    divided by that span, i.e. the curve's average height over training.

    Normalising makes areas comparable between sweeps of different lengths and keeps them in
    the metric's own units (an accuracy AUC is in [0, 1]). Unevenly spaced evaluations are
    weighted by the steps between them. A single point is its own value; an empty curve or a
    non-finite value gives NaN (callers treat that run as diverged).
    """
    x = np.asarray(steps, dtype=float).ravel()
    y = np.asarray(values, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"steps and values differ in length: {x.size} != {y.size}")
    if y.size == 0 or not np.all(np.isfinite(y)):
        return math.nan
    if y.size == 1:
        return float(y[0])
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    span = x[-1] - x[0]
    if span <= 0:
        return float(y.mean())
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / (2.0 * span))


def tail_mean(steps: Sequence[float], values: Sequence[float], last: int) -> float:
    """Mean of the last ``last`` evaluations (by step), e.g. "accuracy over the last 20
    epochs" of the units x K study. Fewer points than ``last`` use them all."""
    if last < 1:
        raise ValueError(f"last: must be >= 1, got {last}")
    x = np.asarray(steps, dtype=float).ravel()
    y = np.asarray(values, dtype=float).ravel()
    if y.size == 0:
        return math.nan
    order = np.argsort(x, kind="stable")
    return float(np.mean(y[order][-last:]))


__all__ = [
    "BOOTSTRAP_MIN_N",
    "mean_se",
    "bootstrap_ci",
    "t_interval",
    "interval",
    "area_under_curve",
    "tail_mean",
]
