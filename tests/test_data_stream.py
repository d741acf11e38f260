"""The correlated online-regression stream: statistics, determinism, laziness, eval schedule.

Statistical checks use fixed seeds and z-tests whose standard errors come either from the
exact variance of the statistic or from P independent streams (population members): samples
inside one stream are correlated, so the independent units are whole streams, never samples.
"""

from __future__ import annotations

import math
from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from coagentnet.data import (
    VARIANCE,
    DataError,
    StreamSpec,
    eval_steps,
    stream_batch,
    stream_eval_sets,
    stream_init,
    stream_rollout,
    target,
)

from ztest import mean_within

Z = 4.0  # two-sided z bound: a false failure has probability 6e-5 per check
P = 256  # independent streams
M, S, B = 16, 4, 8


@partial(jax.jit, static_argnums=1)
def _rollouts(keys: jax.Array, spec: StreamSpec) -> jax.Array:
    return jax.vmap(lambda k: stream_rollout(k, spec)[0])(keys)


@cache
def rollout_many(seed: int, spec: StreamSpec, members: int = P) -> np.ndarray:
    """x of ``members`` independent streams, float64 [members, M, S * B] (read-only)."""
    xs = _rollouts(jax.random.split(jax.random.PRNGKey(seed), members), spec)
    out = np.asarray(xs, np.float64).reshape(members, spec.num_means, -1)
    out.flags.writeable = False
    return out


def mus(seed: int, spec: StreamSpec, member: int = 0) -> np.ndarray:
    """The mean used by every update of one member of ``rollout_many``, float32 [M * S]."""

    def body(state, step):
        state, _, _ = stream_batch(state, step, spec)
        return state, state.mu

    key = jax.random.split(jax.random.PRNGKey(seed), member + 1)[member]
    _, out = jax.lax.scan(body, stream_init(key, spec), jnp.arange(spec.num_updates))
    return np.asarray(out)


def exact_var_of_stream_mean(d: float, m: int, n: int) -> float:
    """Var of the mean of one stream's m * n samples (n per segment), from the AR(1) model."""
    phi = math.sqrt(1 - d)
    within = m * (n * n * d * VARIANCE + n * (1 - d) * VARIANCE)
    across = 2 * n * n * d * VARIANCE * sum((m - lag) * phi**lag for lag in range(1, m))
    return (within + across) / (m * n) ** 2


# ---------------------------------------------------------------------------- spec


def test_spec_validation_names_the_field():
    spec = StreamSpec(0.5, 200, 1600, 32)
    assert spec.num_updates == 320_000 and spec.num_samples == 10_240_000
    assert StreamSpec(1, 1, 1, 1).difficulty == 1.0
    assert hash(spec) == hash(StreamSpec(0.5, 200, 1600, 32))  # usable as a static jit argument
    for bad in (-0.1, 1.1, float("nan"), "0.5", True, None):
        with pytest.raises(DataError, match="StreamSpec.difficulty"):
            StreamSpec(bad, 2, 2, 2)
    for field, args in (
        ("num_means", (0.5, 0, 2, 2)),
        ("batches_per_mean", (0.5, 2, -1, 2)),
        ("batch_size", (0.5, 2, 2, 2.0)),
    ):
        with pytest.raises(DataError, match=f"StreamSpec.{field}"):
            StreamSpec(*args)


def test_target():
    x = jnp.array([0.0, 0.5, math.sqrt(0.75), -0.5], jnp.float32)
    np.testing.assert_allclose(target(x), [0.0, 1.0, -1.0, 1.0], atol=1e-6)


# ---------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("d", [0.0, 0.5, 0.9])
def test_marginal_is_n_0_v(d):
    x = rollout_many(1, StreamSpec(d, M, S, B))
    stream_means = x.mean(axis=(1, 2))
    sigma2 = exact_var_of_stream_mean(d, M, S * B)
    assert abs(stream_means.mean()) <= Z * math.sqrt(sigma2 / P)
    # Stream means are exactly Gaussian, so their sample variance is sigma2 * chi2(P-1)/(P-1):
    # this checks the whole covariance structure (within and across segments).
    lo, hi = stats.chi2.ppf([1e-4, 1 - 1e-4], P - 1) / (P - 1)
    assert lo <= stream_means.var(ddof=1) / sigma2 <= hi
    mean_within((x**2).mean(axis=(1, 2)), VARIANCE, Z)  # E x^2 = V, so Var x = V


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.mark.parametrize("d", [0.0, 0.5, 0.9])
def test_within_segment_correlation_is_d(d):
    x = rollout_many(1, StreamSpec(d, M, S, B))
    # Two samples of every segment: the first of batch 0 and the last of batch S-1.
    first, last = x[:, :, 0], x[:, :, -1]  # [P, M]
    r = pearson(first, last)
    # Pairs within one stream are dependent (shared walk), so the standard error comes from a
    # jackknife over the P independent streams.
    loo = np.array([pearson(np.delete(first, i, 0), np.delete(last, i, 0)) for i in range(P)])
    se = math.sqrt((P - 1) / P * np.sum((loo - loo.mean()) ** 2))
    assert abs(r - d) <= Z * se, (r, d, se)
    # The same through E[ab] / V (x has mean 0 and variance V), one value per stream.
    mean_within((first * last).mean(axis=1) / VARIANCE, d, Z)
    # Neighbouring segments: corr = d * sqrt(1 - d), the walk's memory.
    mean_within((x[:, :-1, -1] * x[:, 1:, 0]).mean(axis=1) / VARIANCE, d * math.sqrt(1 - d), Z)


def test_d0_is_iid_with_mean_fixed_at_zero():
    spec = StreamSpec(0.0, 8, 5, 4)
    assert np.all(mus(3, spec) == 0.0)
    x = rollout_many(3, spec, members=1)[0].ravel()
    assert len(np.unique(x)) == len(x)


def test_d1_repeats_one_x_per_segment():
    spec = StreamSpec(1.0, 12, 5, 4)
    x = rollout_many(4, spec, members=1)[0]  # [M, S * B]
    assert np.all(x == x[:, :1])  # constant within each segment ...
    assert np.all(np.diff(x[:, 0]) != 0)  # ... and new at each boundary
    np.testing.assert_array_equal(x[:, 0], mus(4, spec)[:: spec.batches_per_mean])


@pytest.mark.parametrize("d", [0.3, 1.0])
def test_mean_moves_exactly_at_segment_boundaries(d):
    spec = StreamSpec(d, 6, 7, 2)
    mu = mus(5, spec)
    moved = np.flatnonzero(np.diff(mu) != 0) + 1
    np.testing.assert_array_equal(moved, np.arange(1, 6) * 7)


# ---------------------------------------------------------------------------- determinism


def reference_stream(key, spec: StreamSpec, num_steps: int) -> list[list[float]]:
    """The stream from the documented key scheme, one step at a time in plain Python floats."""
    d, s, b = spec.difficulty, spec.batches_per_mean, spec.batch_size
    k_mu0, k_walk, k_x = jax.random.split(key, 3)
    mu = math.sqrt(d * VARIANCE) * float(jax.random.normal(k_mu0, (), jnp.float32))
    out = []
    for t in range(num_steps):
        if t > 0 and t % s == 0:
            eps = float(jax.random.normal(jax.random.fold_in(k_walk, t // s), (), jnp.float32))
            mu = math.sqrt(1 - d) * mu + d * math.sqrt(VARIANCE) * eps
        z = jax.random.normal(jax.random.fold_in(k_x, t), (b, 1), jnp.float32).ravel().tolist()
        out.append([mu + math.sqrt((1 - d) * VARIANCE) * zi for zi in z])
    return out


def test_scan_vmap_matches_step_by_step_and_reference():
    spec = StreamSpec(0.75, 5, 4, 3)
    keys = jax.random.split(jax.random.PRNGKey(6), 3)
    xs, ys = jax.jit(jax.vmap(lambda k: stream_rollout(k, spec)))(keys)
    assert xs.shape == ys.shape == (3, 20, 3, 1) and xs.dtype == ys.dtype == jnp.float32
    np.testing.assert_allclose(ys, target(xs), rtol=1e-6)
    step_fn = jax.jit(stream_batch, static_argnums=2)
    for i, key in enumerate(keys):
        ref = np.array(reference_stream(key, spec, spec.num_updates))
        np.testing.assert_allclose(xs[i, :, :, 0], ref, rtol=1e-5, atol=1e-6)
        state = stream_init(key, spec)
        for t in range(spec.num_updates):  # traced step, one jitted call per update
            state, x, y = step_fn(state, jnp.int32(t), spec)
            np.testing.assert_allclose(x, xs[i, t], rtol=1e-6, atol=1e-7)


def test_vmap_over_members_inside_one_scan():
    """The training loop's shape: one scan over updates, members vmapped inside it."""
    spec = StreamSpec(0.6, 3, 5, 4)
    keys = jax.random.split(jax.random.PRNGKey(1), 3)

    @jax.jit
    def run(keys):
        states = jax.vmap(stream_init, in_axes=(0, None))(keys, spec)

        def body(states, step):
            states, x, _ = jax.vmap(stream_batch, in_axes=(0, None, None))(states, step, spec)
            return states, x

        return jax.lax.scan(body, states, jnp.arange(spec.num_updates, dtype=jnp.int32))[1]

    xs = np.asarray(run(keys))  # [T, P, B, 1]
    np.testing.assert_array_equal(xs.transpose(1, 0, 2, 3), _rollouts(keys, spec))


def test_typed_keys_work_too():
    spec = StreamSpec(0.5, 3, 2, 2)
    xs, _ = jax.vmap(lambda k: stream_rollout(k, spec))(jax.random.split(jax.random.key(0), 2))
    assert xs.shape == (2, 6, 2, 1)


def test_same_seed_repeats_different_seeds_differ():
    spec = StreamSpec(0.5, 4, 3, 5)
    a, b = rollout_many(7, spec, 2), rollout_many(7, spec, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.any(a[0] == a[1])  # members (different keys) share no value
    assert not np.any(a == rollout_many(8, spec, 2))


def test_stream_memory_does_not_depend_on_length():
    """At paper scale (10.24 M samples) a training-style loop needs only kilobytes of scratch."""
    spec = StreamSpec(0.5, 200, 1600, 32)

    def total_target(key):
        def body(step, carry):
            state, acc = carry
            state, _, y = stream_batch(state, step, spec)
            return state, acc + jnp.sum(y)

        init = (stream_init(key, spec), jnp.float32(0))
        return jax.lax.fori_loop(0, spec.num_updates, body, init)[1]

    memory = jax.jit(total_target).lower(jax.random.PRNGKey(0)).compile().memory_analysis()
    if memory is None:
        pytest.skip("this backend reports no memory analysis")
    assert memory.temp_size_in_bytes < 2**20  # materialising x alone would take 41 MB


# ---------------------------------------------------------------------------- evaluation


def test_eval_sets_are_iid_n_0_v():
    spec = StreamSpec(0.9, 50, 40, 32)  # 64,000 samples -> 640 per set
    x_val, y_val, x_test, y_test = jax.jit(stream_eval_sets, static_argnums=1)(
        jax.random.PRNGKey(9), spec
    )
    n = 640
    for x, y in ((x_val, y_val), (x_test, y_test)):
        assert x.shape == y.shape == (n, 1) and x.dtype == jnp.float32
        np.testing.assert_allclose(y, target(x), rtol=1e-6)
        x = np.asarray(x, np.float64)
        assert abs(x.mean()) <= Z * math.sqrt(VARIANCE / n)
        assert abs(x.var(ddof=1) - VARIANCE) <= Z * VARIANCE * math.sqrt(2 / (n - 1))
    assert not np.any(np.asarray(x_val) == np.asarray(x_test))
    assert stream_eval_sets(jax.random.PRNGKey(0), spec, fraction=0.5)[0].shape == (32000, 1)
    with pytest.raises(DataError, match="fraction"):
        stream_eval_sets(jax.random.PRNGKey(0), spec, fraction=0.0)


def test_eval_steps():
    steps = eval_steps(320_000)
    assert steps.dtype == np.int64 and len(steps) == 201
    np.testing.assert_array_equal(steps, np.arange(201) * 1600)
    np.testing.assert_array_equal(eval_steps(10, 4), [0, 2, 5, 8, 10])  # rint: half to even
    np.testing.assert_array_equal(eval_steps(3, 200), [0, 1, 2, 3])
    for bad in ((0, 5), (10, 0), (10.0, 5), (True, 5)):
        with pytest.raises(DataError, match="eval_steps"):
            eval_steps(*bad)


def test_the_package_lazily_offers_exactly_the_streams_names():
    import coagentnet.data as data
    from coagentnet.data import stream

    assert sorted(data._STREAM_NAMES) == sorted(stream.__all__)
    assert set(stream.__all__) <= set(data.__all__)
