"""The enumeration oracle itself: probabilities sum to one; it agrees with Monte Carlo."""

import jax
import jax.numpy as jnp
import numpy as np

from coagentnet.model import exact
from coagentnet.model.losses import task_loss
from coagentnet.model.network import rollout
from coagentnet.model.units import unit_type

from tiny import PROBLEM, tiny_batch, tiny_rule


def test_state_distributions_sum_to_one():
    _, _, params, _ = tiny_rule(layers=3, units=3)
    x, _ = tiny_batch()
    dists = exact.state_distributions(params, x)
    assert len(dists) == 3
    for dist in dists:
        assert dist.shape == (4, 8)
        np.testing.assert_allclose(dist.sum(axis=-1), 1.0, atol=1e-5)
        assert float(dist.min()) >= 0.0


def test_exact_expected_loss_matches_monte_carlo():
    _, _, params, _ = tiny_rule(layers=2, units=3)
    x, y = tiny_batch()
    exact_loss = float(exact.expected_loss(params, x, y, PROBLEM.task))

    def sampled_loss(key):
        trace = rollout(params, x, key, unit_type("bernoulli"), 1.0)
        return jnp.mean(task_loss(PROBLEM.task, trace.output, y))

    n = 20000
    samples = np.asarray(jax.vmap(sampled_loss)(jax.random.split(jax.random.PRNGKey(0), n)))
    se = samples.std(ddof=1) / np.sqrt(n)
    # 4 standard errors: a false alarm has probability below 1e-4.
    assert abs(samples.mean() - exact_loss) < 4 * se, (samples.mean(), exact_loss, se)


def test_greedy_objective_of_a_deterministic_layer_is_its_greedy_return():
    # With huge weights every policy is (numerically) deterministic, so the greedy-continuation
    # objective of any layer equals the return of the fully greedy network.
    _, _, params, _ = tiny_rule(layers=3, units=2, scale=200.0)
    x, y = tiny_batch()
    greedy = rollout(params, x, jax.random.PRNGKey(0), unit_type("bernoulli"), 1.0, greedy=True)
    target = -float(jnp.mean(task_loss(PROBLEM.task, greedy.output, y)))
    for t in range(3):
        np.testing.assert_allclose(
            float(exact.greedy_objective(params, x, y, t, PROBLEM.task)), target, rtol=1e-4
        )
