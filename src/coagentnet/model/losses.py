"""Pure loss maths shared by every rule (in the style of rlax's policy-gradient module).

Shapes are checked at the boundary; every stop-gradient is visible here.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """Per-example cross-entropy, ``logits [B, C]``, integer ``y [B]`` -> ``[B]``."""
    assert logits.ndim == 2 and y.ndim == 1, (logits.shape, y.shape)
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.take_along_axis(logp, y[:, None].astype(jnp.int32), axis=-1)[:, 0]


def squared_error(prediction: jax.Array, y: jax.Array) -> jax.Array:
    """Per-example squared error summed over outputs, ``[B, O]`` and ``[B, O]`` -> ``[B]``."""
    assert prediction.shape == y.shape, (prediction.shape, y.shape)
    return jnp.sum(jnp.square(prediction - y), axis=-1)


def task_loss(task: str, prediction: jax.Array, y: jax.Array) -> jax.Array:
    """The per-example loss of the task: cross-entropy or squared error, ``[B]``."""
    return (
        cross_entropy(prediction, y) if task == "classification" else squared_error(prediction, y)
    )


def accuracy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """Fraction of examples whose arg-max class is the label (a scalar)."""
    return jnp.mean(jnp.argmax(logits, axis=-1) == y)


def score_function_surrogate(logp_t: jax.Array, signal_t: jax.Array) -> jax.Array:
    """REINFORCE surrogate whose gradient is the policy-gradient estimate of layer t.

    ``-mean_b(sum_u log pi_t(a_t|s_t) * stop_gradient(signal_t))`` with ``logp_t [B, U]``
    (or ``[B]``) and ``signal_t [B]`` (return minus baseline, one per episode). Williams (1992);
    the layer-local form is the coagent policy-gradient theorem (Thomas 2011; Kostas et al. 2020).
    """
    assert signal_t.ndim == 1 and logp_t.shape[0] == signal_t.shape[0], (
        logp_t.shape,
        signal_t.shape,
    )
    per_episode = logp_t.reshape(logp_t.shape[0], -1).sum(axis=-1)
    return -jnp.mean(per_episode * jax.lax.stop_gradient(signal_t))


def regression_loss(prediction: jax.Array, target: jax.Array) -> jax.Array:
    """Mean squared error towards a fixed target: ``mean((prediction - sg(target))^2)``."""
    assert prediction.shape == target.shape, (prediction.shape, target.shape)
    return jnp.mean(jnp.square(prediction - jax.lax.stop_gradient(target)))
