"""Statistics on hand-made arrays whose answers are known exactly."""

import math

import numpy as np
import pytest

from coagentnet.analysis.stats import area_under_curve, bootstrap_ci, mean_se, tail_mean


def test_mean_se_known_values():
    mean, se = mean_se([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    # sample variance 5/3, se = sqrt(5/3 / 4)
    assert se == pytest.approx(math.sqrt(5.0 / 12.0))


def test_mean_se_excludes_non_finite_and_handles_small_n():
    assert mean_se([1.0, float("nan"), 3.0, float("inf")]) == (2.0, pytest.approx(1.0))
    mean, se = mean_se([7.0])
    assert mean == 7.0 and math.isnan(se)
    assert all(math.isnan(v) for v in mean_se([]))


def test_bootstrap_two_points_has_exact_interval():
    # Resampled means of [0, 1] are 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4: the 2.5% and
    # 97.5% quantiles are exactly 0 and 1.
    assert bootstrap_ci([0.0, 1.0], seed=0) == (0.0, 1.0)


def test_bootstrap_constant_single_and_empty():
    assert bootstrap_ci([3.0, 3.0, 3.0], seed=1) == (3.0, 3.0)
    assert bootstrap_ci([5.0, float("nan")], seed=1) == (5.0, 5.0)
    lo, hi = bootstrap_ci([], seed=1)
    assert math.isnan(lo) and math.isnan(hi)


def test_bootstrap_is_seeded_and_matches_the_normal_interval():
    xs = np.random.default_rng(123).normal(10.0, 2.0, size=400)
    a = bootstrap_ci(xs, seed=7)
    assert a == bootstrap_ci(xs, seed=7)  # explicit seed: repeatable
    assert a != bootstrap_ci(xs, seed=8)
    mean, se = mean_se(xs)
    # For a large sample the percentile bootstrap approaches mean +/- 1.96 SE.
    assert a[0] == pytest.approx(mean - 1.96 * se, abs=0.25 * se)
    assert a[1] == pytest.approx(mean + 1.96 * se, abs=0.25 * se)
    lo90, hi90 = bootstrap_ci(xs, seed=7, confidence=0.9)
    assert a[0] < lo90 < hi90 < a[1]


def test_bootstrap_rejects_bad_confidence():
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1.0, 2.0], seed=0, confidence=1.0)


def test_area_under_curve_known_shapes():
    assert area_under_curve([0, 10], [0.0, 1.0]) == pytest.approx(0.5)  # a ramp averages 1/2
    assert area_under_curve([0, 5, 10, 20], [0.3] * 4) == pytest.approx(0.3)
    # Uneven spacing: (0+1)/2*1 + (1+1)/2*2 = 2.5 over a span of 3.
    assert area_under_curve([0, 1, 3], [0.0, 1.0, 1.0]) == pytest.approx(2.5 / 3)
    # Order of the points does not matter.
    assert area_under_curve([3, 0, 1], [1.0, 0.0, 1.0]) == pytest.approx(2.5 / 3)
    assert area_under_curve([4], [0.7]) == 0.7


def test_area_under_curve_of_a_diverged_curve_is_nan():
    assert math.isnan(area_under_curve([0, 1, 2], [0.1, float("nan"), 0.2]))
    assert math.isnan(area_under_curve([], []))
    with pytest.raises(ValueError):
        area_under_curve([0, 1], [1.0])


def test_tail_mean():
    assert tail_mean([0, 1, 2, 3, 4], [1, 2, 3, 4, 5], 2) == 4.5
    assert tail_mean([4, 3, 2, 1, 0], [1, 2, 3, 4, 5], 2) == 1.5  # by step, not by position
    assert tail_mean([0, 1], [1, 3], 10) == 2.0
    with pytest.raises(ValueError):
        tail_mean([0], [1], 0)
