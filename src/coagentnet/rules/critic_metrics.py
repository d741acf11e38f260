"""Per-layer critic diagnostics of the critic rules, logged with the training metrics.

The off-policy critic Q_t (Gupta et al. 2021) should estimate G_t, the exact return of the greedy
continuation from s_{t+1} (:func:`coagentnet.rules.greedy.continuation_returns`). These
statistics say, layer by layer and over training, how far it is from that:

- ``critic_ev_target``: explained variance of Q_t(s_t, a_t) for its regression target y_t;
- ``critic_ev_greedy``: explained variance of Q_t(s_t, a_t) for the exact G_t;
- ``signal_corr_greedy``: correlation over the batch of the actor's signal (y_t, Q_t, or r
  during a warm start) with G_t.

Each is computed over one batch (B examples) and, like every training metric, averaged over the
updates between two evaluations. Explained variance is 1 - var(target - Q) / var(target): 1 for
a perfect critic, 0 for one no better than the batch mean, negative for worse. A batch whose
target (or signal) does not vary gives 0, not a division by zero.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

#: Variances below this count as zero (float32 losses; a constant target explains nothing).
_TINY = 1e-12


def explained_variance(prediction: jax.Array, target: jax.Array) -> jax.Array:
    """1 - var(target - prediction) / var(target) over the batch: ``[B]``, ``[B]`` -> scalar."""
    assert prediction.shape == target.shape and prediction.ndim == 1
    var = jnp.var(target)
    ok = var > _TINY
    return jnp.where(ok, 1.0 - jnp.var(target - prediction) / jnp.where(ok, var, 1.0), 0.0)


def correlation(a: jax.Array, b: jax.Array) -> jax.Array:
    """Pearson correlation over the batch: ``[B]``, ``[B]`` -> scalar (0 if either is constant)."""
    assert a.shape == b.shape and a.ndim == 1
    da, db = a - jnp.mean(a), b - jnp.mean(b)
    den = jnp.sqrt(jnp.mean(da * da) * jnp.mean(db * db))
    ok = den > _TINY
    return jnp.where(ok, jnp.mean(da * db) / jnp.where(ok, den, 1.0), 0.0)


def layer_metrics(q: tuple, y_t: tuple, signals: tuple, g_t: tuple) -> dict[str, jax.Array]:
    """The three diagnostics, each ``[L]`` (one per hidden layer), with no gradient.

    ``q``: Q_t(s_t, a_t); ``y_t``: critic targets; ``signals``: actor signals; ``g_t``: exact
    greedy-continuation returns; tuples of L arrays ``[B]``.
    """
    q, y_t, signals, g_t = jax.lax.stop_gradient((q, y_t, signals, g_t))
    pairs = list(zip(q, y_t, signals, g_t, strict=True))
    return {
        "critic_ev_target": jnp.stack([explained_variance(q_, y_) for q_, y_, _, _ in pairs]),
        "critic_ev_greedy": jnp.stack([explained_variance(q_, g_) for q_, _, _, g_ in pairs]),
        "signal_corr_greedy": jnp.stack([correlation(s_, g_) for _, _, s_, g_ in pairs]),
    }
