"""Per-layer statistics of a rule's update estimator at fixed parameters: how noisy and
how well aimed each layer's update is.

The *update* here is the gradient of the rule's surrogate loss on one minibatch (what
``jax.grad(rule.loss)`` returns), not the optimiser's preconditioned step. At fixed parameters
and rule state, R independent estimates are drawn in one vmapped call, each with a fresh
minibatch (B examples drawn without replacement from a pool) and fresh sampling noise. Per
layer (hidden layers 0..L-1, then the read-out as index L), with ``g_r`` the flattened update
of that layer's weights and biases and ``m`` their mean:

- ``mean_norm``: |m|;
- ``variance``: the total variance, trace of the covariance, sum_d var(g_d) (ddof 1);
- ``variance_se``: its standard error, std_r |g_r - m|^2 / sqrt(R);
- ``snr``: |m| / sqrt(variance / R), the mean's size in units of its own standard error
  (E|m|^2 = |E g|^2 + variance / R, so a zero-mean estimator still scores about 1, not 0);
- ``cosine``: cos(m, reference) for a reference direction (NaN without one).

Critic and baseline parameters are not part of the network's layers and are left out.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from coagentnet.rules.base import Rule, RuleContext


class LayerStats(NamedTuple):
    """Per-layer statistics, each ``[L + 1]`` (hidden layers, then the read-out)."""

    mean_norm: jax.Array
    variance: jax.Array
    variance_se: jax.Array
    snr: jax.Array
    cosine: jax.Array


def layer_vectors(tree: dict) -> tuple[jax.Array, ...]:
    """The network part of a parameter-shaped tree as L + 1 flat vectors ``[D_t]``."""
    parts = tuple(tree["hidden"]) + (tree["readout"],)
    return tuple(jnp.concatenate([jnp.ravel(p["w"]), jnp.ravel(p["b"])]) for p in parts)


def draw_updates(
    rule: Rule,
    params: dict,
    state,
    pool_x: jax.Array,
    pool_y: jax.Array,
    key: jax.Array,
    ctx: RuleContext,
    samples: int,
    batch_size: int,
) -> tuple[jax.Array, ...]:
    """R = ``samples`` independent updates, per layer ``[R, D_t]``.

    ``pool_x [N, D]``, ``pool_y [N, ...]``: the examples minibatches are drawn from.
    """
    n = pool_x.shape[0]

    def one(k):
        k_batch, k_rule = jax.random.split(k)
        idx = jax.random.choice(k_batch, n, (batch_size,), replace=False)
        grads, _ = jax.grad(rule.loss, has_aux=True)(
            params, state, pool_x[idx], pool_y[idx], k_rule, ctx
        )
        return layer_vectors(grads)

    return jax.vmap(one)(jax.random.split(key, samples))


def _cosine(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.dot(a, b) / jnp.maximum(jnp.linalg.norm(a) * jnp.linalg.norm(b), 1e-30)


def summarize(updates: tuple[jax.Array, ...], reference: tuple | None = None) -> LayerStats:
    """:class:`LayerStats` of per-layer updates ``[R, D_t]`` against ``reference`` ``[D_t]``."""
    rows = []
    for t, g in enumerate(updates):
        r = g.shape[0]
        m = jnp.mean(g, axis=0)
        sq = jnp.sum(jnp.square(g - m), axis=1)  # [R]: squared distance of each from the mean
        variance = jnp.sum(sq) / (r - 1)
        se = jnp.std(sq, ddof=1) * r / (r - 1) / jnp.sqrt(r)
        norm = jnp.linalg.norm(m)
        snr = norm / jnp.sqrt(jnp.maximum(variance / r, 1e-30))
        cos = jnp.nan if reference is None else _cosine(m, reference[t])
        rows.append((norm, variance, se, snr, jnp.asarray(cos, jnp.float32)))
    return LayerStats(*(jnp.stack(col) for col in zip(*rows, strict=True)))


def diagnose(
    rule: Rule,
    params: dict,
    state,
    pool_x: jax.Array,
    pool_y: jax.Array,
    key: jax.Array,
    ctx: RuleContext,
    samples: int,
    batch_size: int,
    reference: tuple | None = None,
) -> LayerStats:
    """:func:`draw_updates` then :func:`summarize` (traceable; jit it with the sizes static)."""
    updates = draw_updates(rule, params, state, pool_x, pool_y, key, ctx, samples, batch_size)
    return summarize(updates, reference)
