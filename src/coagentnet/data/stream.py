"""The correlated online-regression stream (Gupta et al. 2021), generated lazily in JAX.

Scalar input x, target ``y = sin(2 pi x^2)`` (no noise), marginal variance ``V = 0.25``,
difficulty ``d`` in [0, 1]. A mean walks as AR(1) over ``M`` segments::

    mu_0 ~ N(0, d V),    mu_k = sqrt(1 - d) mu_{k-1} + d sqrt(V) eps_k,   eps_k ~ N(0, 1)

(stationary: Var mu_k = d V for every k), and each of the ``S`` consecutive batches of ``B``
samples in segment k draws ``x ~ N(mu_k, (1 - d) V)``. Hence x ~ N(0, V) marginally for every d,
two samples of one segment have correlation d, d = 0 is iid (the mean stays 0) and d = 1 repeats
one x (= mu_k) throughout a segment.

Nothing is materialised: ``stream_batch`` makes update ``step``'s batch from a small state, so a
``lax.scan`` over 320,000 updates uses memory independent of ``M * S``. All functions are pure
and work under ``jit`` and ``vmap`` (one key per population member).

Key scheme (the tests rebuild the stream from it): ``stream_init`` splits the member's key into
``(k_mu0, k_walk, k_x)``; ``mu_0 = sqrt(d V) * normal(k_mu0)``; the walk noise of segment k is
``eps_k = normal(fold_in(k_walk, k))``; the batch of update t is
``mu + sqrt((1 - d) V) * normal(fold_in(k_x, t), [B, 1])``. Using ``fold_in`` on the update index
makes a batch depend only on (key, t, current mean), however the loop is written.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .errors import DataError

__all__ = [
    "VARIANCE",
    "StreamSpec",
    "StreamState",
    "eval_steps",
    "stream_batch",
    "stream_eval_sets",
    "stream_init",
    "stream_rollout",
    "target",
]

VARIANCE = 0.25  # V: the marginal variance of x for every difficulty


@dataclass(frozen=True)
class StreamSpec:
    """Shape of a correlated stream; hashable, so it can be a static argument of ``jit``.

    Attributes:
      difficulty: d in [0, 1]; within-segment correlation of x.
      num_means: M, number of segments (means of the AR(1) walk).
      batches_per_mean: S, consecutive updates per segment.
      batch_size: B, samples per update.
    """

    difficulty: float
    num_means: int
    batches_per_mean: int
    batch_size: int

    def __post_init__(self):
        d = self.difficulty
        if isinstance(d, bool) or not isinstance(d, numbers.Real) or not 0.0 <= float(d) <= 1.0:
            raise DataError(f"StreamSpec.difficulty must be a number in [0, 1], got {d!r}")
        object.__setattr__(self, "difficulty", float(d))
        for name in ("num_means", "batches_per_mean", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
                raise DataError(f"StreamSpec.{name} must be a positive integer, got {v!r}")
            object.__setattr__(self, name, int(v))

    @property
    def num_updates(self) -> int:
        """M * S: number of batches (updates) in the stream."""
        return self.num_means * self.batches_per_mean

    @property
    def num_samples(self) -> int:
        """M * S * B: number of samples in the stream."""
        return self.num_updates * self.batch_size


class StreamState(NamedTuple):
    """Per-member generator state (a pytree; add a leading [P] axis under ``vmap``).

    Attributes:
      mu: float32 [] current segment mean mu_k.
      walk_key: PRNG key for the walk noise eps_k.
      x_key: PRNG key for the samples.
    """

    mu: jax.Array
    walk_key: jax.Array
    x_key: jax.Array


def target(x: jax.Array) -> jax.Array:
    """The regression target ``sin(2 pi x^2)``, elementwise (same shape and dtype as x)."""
    return jnp.sin(2.0 * jnp.pi * jnp.square(x))


def stream_init(key: jax.Array, spec: StreamSpec) -> StreamState:
    """Start a stream: draw ``mu_0 ~ N(0, d V)`` and keep the keys for the rest."""
    k_mu0, walk_key, x_key = jax.random.split(key, 3)
    mu0 = math.sqrt(spec.difficulty * VARIANCE) * jax.random.normal(k_mu0, (), jnp.float32)
    return StreamState(mu0, walk_key, x_key)


def stream_batch(
    state: StreamState, step: jax.Array | int, spec: StreamSpec
) -> tuple[StreamState, jax.Array, jax.Array]:
    """The batch for update ``step`` (0-based global update index; may be traced).

    Steps must be consumed in order 0, 1, 2, ...: the mean moves to the next segment exactly
    when ``step % S == 0 and step > 0`` (selected with ``jnp.where``, no Python branching).

    Returns:
      ``(new_state, x float32 [B, 1], y float32 [B, 1])``.
    """
    d, s = spec.difficulty, spec.batches_per_mean
    step = jnp.asarray(step, jnp.int32)
    eps = jax.random.normal(jax.random.fold_in(state.walk_key, step // s), (), jnp.float32)
    moved = math.sqrt(1.0 - d) * state.mu + d * math.sqrt(VARIANCE) * eps
    mu = jnp.where((step % s == 0) & (step > 0), moved, state.mu)
    z = jax.random.normal(jax.random.fold_in(state.x_key, step), (spec.batch_size, 1), jnp.float32)
    x = mu + math.sqrt((1.0 - d) * VARIANCE) * z
    return state._replace(mu=mu), x, target(x)


def stream_eval_sets(
    key: jax.Array, spec: StreamSpec, fraction: float = 0.01
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Validation and test sets: iid x ~ N(0, V), each ``fraction`` of the stream's size.

    Each set has ``n = max(1, round(fraction * M * S * B))`` samples (102,400 at paper scale).
    Use a key independent of the stream's.

    Returns:
      ``(x_val, y_val, x_test, y_test)``, each float32 [n, 1].
    """
    if not 0.0 < fraction <= 1.0:
        raise DataError(f"stream_eval_sets fraction must be in (0, 1], got {fraction!r}")
    n = max(1, round(fraction * spec.num_samples))
    k_val, k_test = jax.random.split(key)
    sd = math.sqrt(VARIANCE)
    x_val = sd * jax.random.normal(k_val, (n, 1), jnp.float32)
    x_test = sd * jax.random.normal(k_test, (n, 1), jnp.float32)
    return x_val, target(x_val), x_test, target(x_test)


def stream_rollout(
    key: jax.Array, spec: StreamSpec, num_steps: int | None = None
) -> tuple[jax.Array, jax.Array]:
    """Materialise the first ``num_steps`` batches (default: all) with a ``lax.scan``.

    For plots, tests and small streams only: the result holds ``num_steps * B`` samples.
    Training consumes ``stream_batch`` inside its own scan instead.

    Returns:
      ``(x, y)``, each float32 [num_steps, B, 1].
    """
    num_steps = spec.num_updates if num_steps is None else int(num_steps)

    def body(state, step):
        state, x, y = stream_batch(state, step, spec)
        return state, (x, y)

    _, (xs, ys) = jax.lax.scan(body, stream_init(key, spec), jnp.arange(num_steps, dtype=jnp.int32))
    return xs, ys


def eval_steps(num_updates: int, num_evals: int = 200) -> np.ndarray:
    """When the online protocol evaluates, as counts of updates done so far.

    ``num_evals`` evaluations evenly spaced over the stream plus one before training: the
    values ``round(i * num_updates / num_evals)`` for i = 0..num_evals, so the first is 0
    (before any update) and the last is ``num_updates`` (after the last). Duplicates, which
    occur only when ``num_evals > num_updates``, are dropped.

    Returns:
      int64 [<= num_evals + 1], strictly increasing.
    """
    for name, v in (("num_updates", num_updates), ("num_evals", num_evals)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise DataError(f"eval_steps {name} must be a positive integer, got {v!r}")
    steps = np.rint(np.linspace(0, num_updates, int(num_evals) + 1)).astype(np.int64)
    return np.unique(steps)
