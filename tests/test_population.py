"""Populations: same seed, same numbers; divergence is isolated (bitwise: test_invariance.py)."""

import numpy as np
import pytest

from coagentnet.config import Config
from coagentnet.training.run import run_population, train


def small(**fields) -> Config:
    base = dict(layers=2, units=16, epochs=2, batch_size=64, lr=2.0**-7)
    return Config(**{**base, **fields})


def values(result):
    return np.array([row[-1] for row in result.metrics])


def test_same_seed_same_numbers_different_seed_different_numbers(digits):
    cfg = small(rule="reinforce", baseline="ema")
    a, b = train(cfg, 1, data=digits), train(cfg, 1, data=digits)
    np.testing.assert_array_equal(values(a), values(b))
    c = train(cfg, 2, data=digits)
    assert not np.allclose(values(a), values(c))


@pytest.mark.slow
def test_diverged_member_is_stopped_and_others_are_unaffected(digits):
    good = small(rule="reinforce", optimizer="sgd", lr=2.0**-7)
    bad = good.replace(lr=1e38)
    pair = run_population([good, bad], [0, 0], data=digits)
    solo = train(good, 0, data=digits)
    assert not pair[0].diverged and pair[1].diverged
    np.testing.assert_array_equal(values(pair[0]), values(solo))  # bitwise: see test_invariance
    # The diverged member's record stops at the evaluation after it diverged.
    assert max(r[0] for r in pair[1].metrics) < max(r[0] for r in pair[0].metrics)
