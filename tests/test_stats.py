"""Statistics on hand-made arrays whose answers are known exactly."""

import math

import numpy as np
import pytest

from coagentnet.analysis.stats import (
    area_under_curve,
    bootstrap_ci,
    interval,
    mean_se,
    t_interval,
    tail_mean,
)


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


def test_t_interval_matches_the_t_table():
    # 1, 2, 3: mean 2, sd 1, SE 1/sqrt(3); t(0.975, 2 df) = 4.3027 (printed t tables).
    lo, hi = t_interval([1.0, 2.0, 3.0])
    half = 4.302653 / math.sqrt(3.0)
    assert lo == pytest.approx(2.0 - half, abs=1e-5) and hi == pytest.approx(2.0 + half, abs=1e-5)
    # 0, 2: mean 1, SE 1; t(0.975, 1 df) = 12.7062.
    lo, hi = t_interval([0.0, 2.0])
    assert (lo, hi) == pytest.approx((1.0 - 12.7062, 1.0 + 12.7062), abs=1e-4)
    # 90%: t(0.95, 4 df) = 2.1318 on 0..4 (sd sqrt(2.5), SE sqrt(0.5)).
    lo, hi = t_interval([0.0, 1.0, 2.0, 3.0, 4.0], confidence=0.9)
    assert hi - 2.0 == pytest.approx(2.1318 * math.sqrt(0.5), abs=1e-4)


def test_t_interval_small_n_non_finite_and_bad_confidence():
    assert all(math.isnan(v) for v in t_interval([0.5]))
    assert all(math.isnan(v) for v in t_interval([]))
    assert t_interval([1.0, 2.0, 3.0, float("nan")]) == t_interval([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="confidence"):
        t_interval([1.0, 2.0], confidence=1.0)


def test_interval_is_t_below_ten_seeds_and_bootstrap_from_ten():
    nine = [float(i) for i in range(9)]
    lo, hi, kind = interval(nine, seed=0)
    assert kind == "t" and (lo, hi) == t_interval(nine)
    ten = [float(i) for i in range(10)]
    lo, hi, kind = interval(ten, seed=0)
    assert kind == "bootstrap" and (lo, hi) == bootstrap_ci(ten, seed=0)
    # Nine finite values and a diverged NaN are still nine seeds: t.
    assert interval([*nine, float("nan")], seed=0)[2] == "t"
