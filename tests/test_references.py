"""Reference levels of the figures: chance accuracy and the mean predictor's MSE, checked
against slow obvious computations."""

import numpy as np
import pytest

from coagentnet.analysis import references
from coagentnet.data import load_dataset


def test_chance_is_one_over_the_classes():
    assert references.chance_accuracy("digits") == pytest.approx(0.1)
    assert references.chance_accuracy("diabetes") is None  # regression
    assert references.chance_accuracy("no-such-set") is None
    assert references.reference_line("digits", "accuracy", True) == (0.1, "chance (0.1)")
    assert references.reference_line("digits", "loss", False) is None  # no MSE of a classifier


def test_stream_variance_matches_monte_carlo_within_its_standard_error():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, np.sqrt(0.25), 2_000_000)
    y2 = (np.sin(2 * np.pi * x**2) - np.sin(2 * np.pi * x**2).mean()) ** 2
    se = y2.std() / np.sqrt(len(y2))
    assert abs(references.stream_target_variance() - y2.mean()) < 4 * se


def test_a_fixed_regression_set_uses_its_test_targets():
    want = float(np.var(load_dataset("diabetes").y_test))
    assert references.mean_predictor_mse("diabetes") == pytest.approx(want)
    value, label = references.reference_line("correlated", "loss", False)
    assert label == f"predict the mean ({value:.3g})"
