"""Probability of improvement (rliable's statistic) against a direct count over pairs, with a
bootstrap interval that brackets it and repeats exactly (fixed seed)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from coagentnet.analysis.improvement import probability_of_improvement


def test_probability_of_improvement_is_the_pairwise_count_with_ties_half():
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 5, 7).astype(float), rng.integers(0, 5, 4).astype(float)
    pairs = list(itertools.product(x, y))
    direct = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in pairs) / len(pairs)
    poi, low, high = probability_of_improvement(x, y)
    assert math.isclose(poi, direct) and low <= poi <= high
    assert probability_of_improvement(x, y) == (poi, low, high)  # fixed seed: the same interval
    assert probability_of_improvement([1, 2, 3], [0, 0]) == (1.0, 1.0, 1.0)
    assert probability_of_improvement([1, 1], [1, 1])[0] == 0.5
    assert math.isclose(probability_of_improvement(y, x)[0], 1 - poi)


def test_diverged_runs_are_left_out():
    assert probability_of_improvement([1.0, math.nan], [0.0])[0] == 1.0
    assert all(math.isnan(v) for v in probability_of_improvement([math.nan], [0.0]))
