"""Reference levels drawn as horizontal lines in a study's figures, so a curve can be
read against what a trivial predictor achieves.

- **chance accuracy**: ``1 / classes`` of a classification data set (the accuracy of a
  constant guess on balanced classes);
- **the mean predictor's MSE**: the variance of a regression target, i.e. the error of always
  predicting its mean. For a fixed data set it is the variance of the test targets; for the
  correlated stream (SPEC.md section 5) the test inputs are iid N(0, V), so it is the
  population variance of ``y = sin(2 pi x^2)`` under that law, computed by Gauss-Hermite
  quadrature (no sampling noise).

A line is a ``(value, label)`` pair; None where no reference applies (a loss of a classifier,
an unknown or unloadable data set: a figure is then drawn without the line).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from coagentnet.data.errors import DataError


def chance_accuracy(dataset: str) -> float | None:
    """``1 / classes`` of classification data set ``dataset``; None for regression or an
    unknown name."""
    from coagentnet.data.datasets import dataset_shape

    try:
        task, _, classes, _ = dataset_shape(dataset)
    except DataError:
        return None
    return 1.0 / classes if task == "classification" and classes > 1 else None


@functools.lru_cache(maxsize=1)
def stream_target_variance(points: int = 200) -> float:
    """Var[sin(2 pi x^2)] for x ~ N(0, V), V the stream's marginal variance (quadrature with
    ``points`` nodes: 0.243556 at 200, within 1e-5 of 300; a 10^7-sample Monte Carlo gives
    0.24335)."""
    from coagentnet.data.stream import VARIANCE

    nodes, weights = np.polynomial.hermite_e.hermegauss(points)
    weights = weights / math.sqrt(2 * math.pi)  # probabilists' Hermite: a N(0, 1) expectation
    y = np.sin(2 * np.pi * VARIANCE * nodes**2)  # x = sqrt(V) z, so x^2 = V z^2
    mean = float(weights @ y)
    return float(weights @ (y - mean) ** 2)


@functools.lru_cache(maxsize=16)  # one load per data set, not one per figure
def mean_predictor_mse(dataset: str, **load) -> float | None:
    """The MSE of predicting the target's mean: the stream's population variance, or a fixed
    regression set's test-target variance (``load``: ``load_dataset`` keywords). None for a
    classifier or a set that cannot be loaded here."""
    if dataset == "correlated":
        return stream_target_variance()
    from coagentnet.data.datasets import dataset_shape, load_dataset

    try:
        if dataset_shape(dataset)[0] != "regression":
            return None
        return float(np.var(load_dataset(dataset, download=False, **load).y_test))
    except (DataError, ImportError):
        return None


def reference_line(dataset: str, metric: str, maximize: bool, **load) -> tuple[float, str] | None:
    """The reference of ``metric`` on ``dataset`` as ``(value, legend label)``, or None."""
    if metric == "accuracy":
        value = chance_accuracy(dataset)
        return None if value is None else (value, f"chance ({value:.2g})")
    if metric == "loss" and not maximize:
        value = mean_predictor_mse(dataset, **load)
        return None if value is None else (value, f"predict the mean ({value:.3g})")
    return None


__all__ = ["chance_accuracy", "mean_predictor_mse", "reference_line", "stream_target_variance"]
