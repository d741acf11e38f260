"""Unit types: sampling, greedy actions, log-probabilities and entropies."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from coagentnet.model.units import unit_type

KEY = jax.random.PRNGKey(0)


def test_bernoulli_log_prob_is_stable_and_normalised():
    z = jnp.array([[-200.0, -3.0, 0.0, 3.0, 200.0]])
    lp1 = unit_type("bernoulli").log_prob(z, jnp.ones_like(z), 1.0)
    lp0 = unit_type("bernoulli").log_prob(z, jnp.zeros_like(z), 1.0)
    assert np.isfinite(lp1).all() and np.isfinite(lp0).all()
    np.testing.assert_allclose(jnp.exp(lp1) + jnp.exp(lp0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(lp1[0, 0], -200.0, rtol=1e-6)  # no log(p + eps) floor


def test_bernoulli_greedy_ties_go_to_zero_and_entropy_peaks_at_ln2():
    unit = unit_type("bernoulli")
    z = jnp.array([[-1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(unit.greedy(z), [[0.0, 0.0, 1.0]])
    h = unit.entropy(jnp.array([[0.0, 50.0, -50.0, 1.0]]), 1.0)
    np.testing.assert_allclose(h[0, 0], np.log(2.0), rtol=1e-6)
    assert float(h[0, 1]) < 1e-15 and np.isfinite(h).all()
    p = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(h[0, 3], -(p * np.log(p) + (1 - p) * np.log(1 - p)), rtol=1e-5)
    # Against the definition in float64 wherever it is representable, to float32 rounding.
    z = np.linspace(-30.0, 30.0, 2001)
    q = 1 / (1 + np.exp(np.abs(z)))  # the less likely action's probability, accurately
    exact = -(q * np.log(q) + (1 - q) * np.log1p(-q))
    h = unit.entropy(jnp.asarray(z, jnp.float32), 1.0)
    np.testing.assert_allclose(h, exact, rtol=1e-5)


def test_bernoulli_sampling_frequency():
    unit = unit_type("bernoulli")
    z = jnp.full((20000, 1), 0.7)
    freq = float(unit.sample(KEY, z, 1.0).mean())
    p = 1 / (1 + np.exp(-0.7))
    assert abs(freq - p) < 4 * np.sqrt(p * (1 - p) / 20000)


@pytest.mark.parametrize(
    "value_map, expected",
    [
        ("index", [0, 1, 2, 3, 4]),
        ("unit", [0, 0.25, 0.5, 0.75, 1]),
        ("symmetric", [-1, -0.5, 0, 0.5, 1]),
    ],
)
def test_categorical_value_maps(value_map, expected):
    unit = unit_type("categorical", num_actions=5, value_map=value_map)
    np.testing.assert_allclose(unit.value(jnp.arange(5)[None, :]), [expected])


def test_categorical_log_prob_entropy_and_shapes():
    unit = unit_type("categorical", num_actions=3)
    assert unit.width(4) == 12
    z = unit.head(jax.random.normal(KEY, (2, 12)) * 3)
    assert z.shape == (2, 4, 3)
    a = unit.sample(KEY, z, 1.0)
    assert a.shape == (2, 4)
    total = sum(jnp.exp(unit.log_prob(z, jnp.full((2, 4), k), 1.0)) for k in range(3))
    np.testing.assert_allclose(total, 1.0, rtol=1e-5)
    p = jax.nn.softmax(z, axis=-1)
    np.testing.assert_allclose(unit.entropy(z, 1.0), -(p * jnp.log(p)).sum(-1), rtol=1e-5)
    np.testing.assert_array_equal(unit.greedy(z), jnp.argmax(z, -1))


def test_bernoulli2_is_a_two_logit_bernoulli():
    unit = unit_type("bernoulli2")
    z = unit.head(jnp.array([[0.3, 1.3]]))  # logits for 0 and 1 of one unit
    lp1 = unit.log_prob(z, jnp.array([[1]]), 1.0)
    np.testing.assert_allclose(lp1, jax.nn.log_sigmoid(1.0), rtol=1e-6)
    np.testing.assert_allclose(unit.value(jnp.array([[1]])), [[1.0]])


def test_gaussian_log_prob_entropy_and_relu_after_sampling():
    unit = unit_type("gaussian", activation="relu")
    z = jnp.array([[0.5, -2.0]])
    a = jnp.array([[1.0, -1.0]])
    std = 2.0
    ref = -0.5 * ((a - z) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(unit.log_prob(z, a, std), ref, rtol=1e-6)
    np.testing.assert_allclose(unit.entropy(z, std), 0.5 * np.log(2 * np.pi * np.e * std**2))
    np.testing.assert_allclose(unit.value(a), [[1.0, 0.0]])
    np.testing.assert_allclose(unit.value(unit.greedy(z)), [[0.5, 0.0]])
    samples = unit.sample(KEY, jnp.zeros((50000, 1)), std)
    assert abs(float(samples.std()) - std) < 0.05


def test_sampled_actions_carry_no_gradient():
    unit = unit_type("gaussian")

    def f(z):
        return unit.sample(KEY, z, 1.0).sum()

    np.testing.assert_array_equal(jax.grad(f)(jnp.ones((2, 3))), 0.0)
