"""A z-test of Monte Carlo gradient estimates against an exact gradient (SPEC.md section 8)."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

#: Family-wise false-alarm rate of one test over all parameters.
ALPHA = 1e-3


def z_scores(samples: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Per-coordinate z of the sample mean: ``samples [N, D]``, ``exact [D]`` -> ``[D]``.

    The tolerance is the estimator's own standard error, std / sqrt(N). Coordinates whose
    estimates never vary must equal the exact value (z = 0 if they do, inf if not).
    """
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    diff = mean - exact
    constant = se < 1e-12
    z = np.where(constant, 0.0, diff / np.where(constant, 1.0, se))
    return np.where(constant & (np.abs(diff) > 1e-6), np.inf, z)


def critical_z(num_params: int, alpha: float = ALPHA) -> float:
    """Two-sided Bonferroni threshold for ``num_params`` simultaneous coordinates."""
    return float(norm.ppf(1.0 - alpha / (2.0 * num_params)))


def passes(samples: np.ndarray, exact: np.ndarray, alpha: float = ALPHA) -> tuple[bool, float]:
    """(max |z| below the corrected threshold, max |z|)."""
    z = np.abs(z_scores(samples, exact))
    return bool(z.max() < critical_z(len(exact), alpha)), float(z.max())


def mean_within(values: np.ndarray, expected: float, z: float) -> None:
    """Assert that the mean of iid ``values [N]`` equals ``expected`` within ``z`` standard
    errors of the mean (the same test as :func:`z_scores`, for one scalar statistic)."""
    values = np.asarray(values, dtype=np.float64)
    score = np.abs(z_scores(values[:, None], np.array([expected])))[0]
    assert score <= z, (values.mean(), expected, score)
