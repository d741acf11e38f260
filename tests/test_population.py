"""Populations: member i equals a solo run; same seed, same numbers; divergence is isolated."""

import numpy as np
import pytest

from coagentnet.config import Config
from coagentnet.training.run import run_population, train


def small(**fields) -> Config:
    base = dict(layers=2, units=16, epochs=2, batch_size=64, lr=2.0**-7)
    return Config(**{**base, **fields})


def values(result):
    return np.array([row[-1] for row in result.metrics])


@pytest.mark.parametrize(
    "fields",
    [
        dict(rule="reinforce", baseline="ema"),
        dict(rule="off_policy", baseline="layer_state"),
        dict(rule="backprop"),
    ],
)
def test_member_equals_solo_run(fields, digits):
    configs = [small(**fields, lr=lr) for lr in (2.0**-7, 2.0**-9, 2.0**-5)]
    seeds = [4, 5, 6]
    population = run_population(configs, seeds, data=digits)
    for cfg, seed, member in zip(configs, seeds, population, strict=True):
        solo = train(cfg, seed, data=digits)
        assert [r[:4] for r in member.metrics] == [r[:4] for r in solo.metrics]
        # Batched (P = 3) and P = 1 matrix products may round differently in the last bit,
        # and training amplifies that slightly: equal to float32 precision, not bitwise.
        np.testing.assert_allclose(values(member), values(solo), rtol=1e-4, atol=1e-6)


def test_same_seed_same_numbers_different_seed_different_numbers(digits):
    cfg = small(rule="reinforce", baseline="ema")
    a, b = train(cfg, 1, data=digits), train(cfg, 1, data=digits)
    np.testing.assert_array_equal(values(a), values(b))
    c = train(cfg, 2, data=digits)
    assert not np.allclose(values(a), values(c))


def test_diverged_member_is_stopped_and_others_are_unaffected(digits):
    good = small(rule="reinforce", optimizer="sgd", lr=2.0**-7)
    bad = good.replace(lr=1e38)
    pair = run_population([good, bad], [0, 0], data=digits)
    solo = train(good, 0, data=digits)
    assert not pair[0].diverged and pair[1].diverged
    np.testing.assert_allclose(values(pair[0]), values(solo), rtol=1e-4, atol=1e-6)
    # The diverged member's record stops at the evaluation after it diverged.
    assert max(r[0] for r in pair[1].metrics) < max(r[0] for r in pair[0].metrics)
