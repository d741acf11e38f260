"""The critic options beyond the paper: target critics (``critic_target``) and layer-normalised
critic inputs (``critic_input_norm``), checked against the obvious slow definitions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from coagentnet.config import Config, ConfigError
from coagentnet.model import critics

from tiny import CTX, tiny_batch, tiny_rule


def test_polyak_moves_each_leaf_by_tau():
    target = ({"w": jnp.zeros((2, 3)), "b": jnp.ones(3)},)
    new = ({"w": jnp.full((2, 3), 4.0), "b": jnp.full(3, 3.0)},)
    moved = critics.polyak(target, new, 0.25)
    np.testing.assert_allclose(moved[0]["w"], 1.0)
    np.testing.assert_allclose(moved[0]["b"], 1.5)


def test_input_norm_standardises_each_example_before_the_critic():
    critic = critics.init_mlp(jax.random.PRNGKey(0), 5, 8, 1)
    s = jax.random.normal(jax.random.PRNGKey(1), (4, 3))
    a = jax.random.bernoulli(jax.random.PRNGKey(2), 0.5, (4, 2)).astype(jnp.float32)
    q = critics.q_value(critic, s, a, input_norm=True)
    h = np.concatenate([np.asarray(s), np.asarray(a)], axis=1).astype(np.float64)
    h = (h - h.mean(1, keepdims=True)) / np.sqrt(h.var(1, keepdims=True) + 1e-5)
    slow = critics.q_value(
        critic, jnp.asarray(h[:, :3], jnp.float32), jnp.asarray(h[:, 3:], jnp.float32)
    )
    np.testing.assert_allclose(q, slow, rtol=1e-5, atol=1e-6)
    shifted = critics.q_value(critic, s + 2.0, a + 2.0, input_norm=True)  # offset-free
    np.testing.assert_allclose(q, shifted, rtol=1e-5, atol=1e-5)
    assert not np.allclose(q, critics.q_value(critic, s + 2.0, a + 2.0))


def _off_policy(**fields):
    """(rule, params, state) of a tiny 3-layer off_policy network."""
    _, rule, params, state = tiny_rule(layers=3, rule="off_policy", **fields)
    return rule, params, state


def _step(rule, params, state):
    """One update's gradients and the rule state after it, on the tiny batch."""
    x, y = tiny_batch()
    grads, (new_state, _) = jax.grad(rule.loss, has_aux=True)(
        params, state, x, y, jax.random.PRNGKey(5), CTX
    )
    return grads, new_state


def _shifted_target(params, state):
    """``state`` with target critics 1.0 above the critics in every weight."""
    return {**state, "critic_target": jax.tree.map(lambda w: w + 1.0, params["critics"])}


def test_target_critics_start_as_the_critics_and_follow_them_by_tau():
    rule, params, state = _off_policy(critic_target=0.1)
    grads, new_state = _step(rule, params, state)
    # Step 0: the target critics are the critics, so the update is the one without targets.
    plain, _ = _step(*_off_policy())
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(plain), strict=True):
        np.testing.assert_array_equal(a, b)
    # After it the target moves by tau towards the critics as they were at the step's start
    # (here equal to the target, so it stays put); a perturbed target moves 10% of the way.
    for a, b in zip(
        jax.tree.leaves(new_state["critic_target"]), jax.tree.leaves(params["critics"]), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    _, after = _step(rule, params, _shifted_target(params, state))
    for a, b in zip(
        jax.tree.leaves(after["critic_target"]), jax.tree.leaves(params["critics"]), strict=True
    ):
        np.testing.assert_allclose(a, b + 0.9, rtol=1e-5)


def test_target_critics_change_the_bootstrap_targets():
    rule, params, state = _off_policy(critic_target=0.1)
    g_same, _ = _step(rule, params, state)
    g_shift, _ = _step(rule, params, _shifted_target(params, state))
    assert not np.allclose(g_same["hidden"][0]["w"], g_shift["hidden"][0]["w"])


@pytest.mark.parametrize(
    "fields, field",
    [
        (dict(rule="off_policy", critic_target=1.5), "critic_target"),
        (dict(rule="off_policy", critic_target=-0.1), "critic_target"),
    ],
)
def test_bad_critic_options_name_the_field(fields, field):
    with pytest.raises(ConfigError, match=f"^{field}: "):
        Config(**fields)
