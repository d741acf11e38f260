"""REINFORCE with every baseline is unbiased; broken estimators are caught (SPEC.md section 8).

Each test draws N independent gradient estimates of the rule's surrogate loss on a tiny
Bernoulli network and compares their mean with the exact gradient of the expected loss from
the enumeration oracle, coordinate by coordinate, with a Bonferroni-corrected z-test whose
tolerance is the estimator's own standard error.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from coagentnet.model import baselines, exact
from coagentnet.model.baselines import EmaState
from coagentnet.model.losses import score_function_surrogate, task_loss
from coagentnet.model.network import rollout
from coagentnet.model.units import unit_type

from tiny import CTX, PROBLEM, flat, network_part, tiny_batch, tiny_rule
from ztest import critical_z, passes, z_scores

N = 40_000
KEYS = jax.random.split(jax.random.PRNGKey(2021), N)
# Every registered kind: a new one is tested here by registering it.
BASELINES = tuple(baselines.BASELINES)


def exact_gradient(params, x, y):
    return np.asarray(flat(jax.grad(exact.expected_loss)(network_part(params), x, y, PROBLEM.task)))


def with_good_baseline(kind, params, state, value):
    """Set a baseline to the exact expected reward (any action-independent value is unbiased)."""
    params, state = dict(params), dict(state)
    if kind == "ema":
        state["baseline"] = EmaState(value=jnp.asarray(value), ready=jnp.asarray(True))
    elif kind == "state":
        params["baseline"] = {"v": {**params["baseline"]["v"], "b": jnp.full((1,), value)}}
    elif kind == "layer_state":
        v = tuple({**p, "b": jnp.full((1,), value)} for p in params["baseline"]["v"])
        params["baseline"] = {"v": v}
    return params, state


def rule_estimates(kind):
    """N gradient estimates of reinforce + ``kind`` (network parameters only), ``[N, D]``."""
    x, y = tiny_batch()
    _, rule, params, state = tiny_rule(baseline=kind)
    mean_reward = -float(exact.expected_loss(params, x, y, PROBLEM.task))
    params, state = with_good_baseline(kind, params, state, mean_reward)

    def one(key):
        grads, _ = jax.grad(rule.loss, has_aux=True)(params, state, x, y, key, CTX)
        return flat(network_part(grads))

    return np.asarray(jax.jit(jax.vmap(one))(KEYS)), exact_gradient(params, x, y)


@pytest.fixture(scope="module")
def estimates():
    return {kind: rule_estimates(kind) for kind in BASELINES}


@pytest.mark.parametrize("kind", BASELINES)
def test_reinforce_matches_exact_gradient(estimates, kind):
    samples, truth = estimates[kind]
    ok, zmax = passes(samples, truth)
    assert ok, f"max |z| = {zmax:.2f} >= {critical_z(len(truth)):.2f}"


@pytest.mark.parametrize("kind", BASELINES[1:])
def test_baseline_keeps_the_mean_and_lowers_the_variance(estimates, kind):
    plain, _ = estimates["none"]
    based, _ = estimates[kind]
    # Same keys, same samples: the paired difference isolates the baseline's contribution,
    # whose expectation must be zero.
    ok, zmax = passes(plain - based, np.zeros(plain.shape[1]))
    assert ok, f"baseline shifts the mean: max |z| = {zmax:.2f}"
    ratio = based.var(axis=0).sum() / plain.var(axis=0).sum()
    # The relative standard error of a variance estimate from N = 40k samples is about
    # sqrt(2 / N) = 0.7%, so a ratio below 0.9 is a real reduction, not noise.
    assert ratio < 0.9, ratio


def test_negative_control_loo_including_own_return_fails(monkeypatch):
    # b = mean of all S returns, the rollout's own included: E[grad log pi * b] != 0 (it
    # shrinks the policy-gradient terms by (S - 1) / S).
    def leave_none_out():
        def values(params, state, trace, r_groups):
            b = jnp.broadcast_to(jnp.mean(r_groups, axis=1, keepdims=True), r_groups.shape)
            return (jax.lax.stop_gradient(b.reshape(-1)),) * len(trace.states)

        return baselines.loo()._replace(values=values)

    monkeypatch.setitem(baselines.BASELINES, "loo", leave_none_out)
    samples, truth = rule_estimates("loo")
    ok, zmax = passes(samples, truth)
    assert not ok, f"a baseline with the rollout's own return went unnoticed (max |z| = {zmax:.2f})"


def broken_estimates(signal_fn):
    """Estimates of a REINFORCE surrogate whose signal is ``signal_fn(r, trace, t)``."""
    x, y = tiny_batch()
    _, rule, params, state = tiny_rule()
    net = network_part(params)
    unit = unit_type("bernoulli")

    def surrogate(p, key):
        trace = rollout(p, x, key, unit, 1.0)
        per_example = task_loss(PROBLEM.task, trace.output, y)
        total = jnp.mean(per_example)
        for t in range(len(trace.logp)):
            logp = trace.logp[t].sum(axis=-1)
            total -= jnp.mean(logp * signal_fn(-per_example, trace, t))
        return total

    def one(key):
        return flat(jax.grad(surrogate)(net, key))

    # The harness itself is faithful: with the correct detached signal it equals the rule.
    correct = jax.grad(lambda p, k: surrogate_correct(p, k, x, y, unit))(net, KEYS[0])
    from_rule = jax.grad(rule.loss, has_aux=True)(params, state, x, y, KEYS[0], CTX)[0]
    np.testing.assert_allclose(flat(correct), flat(network_part(from_rule)), rtol=1e-5, atol=1e-6)
    return np.asarray(jax.jit(jax.vmap(one))(KEYS)), exact_gradient(params, x, y)


def surrogate_correct(p, key, x, y, unit):
    trace = rollout(p, x, key, unit, 1.0)
    per_example = task_loss(PROBLEM.task, trace.output, y)
    total = jnp.mean(per_example)
    for t in range(len(trace.logp)):
        total += score_function_surrogate(trace.logp[t], -per_example)
    return total


def test_negative_control_undetached_signal_fails():
    # The signal keeps its gradient, adding log pi * d(-loss)/d(read-out) to the update.
    samples, truth = broken_estimates(lambda r, trace, t: r)
    ok, zmax = passes(samples, truth)
    assert not ok, f"an undetached signal went unnoticed (max |z| = {zmax:.2f})"


def test_negative_control_action_dependent_baseline_fails():
    # b_t = number of units that fired: depends on a_t, so E[grad log pi * b_t] != 0.
    def signal(r, trace, t):
        return jax.lax.stop_gradient(r - trace.actions[t].sum(axis=-1))

    samples, truth = broken_estimates(signal)
    z = np.abs(z_scores(samples, truth))
    assert z.max() > critical_z(len(truth)), z.max()


def test_stochastic_readout_reinforce_matches_exact_gradient():
    # Regression with a Gaussian read-out trained by REINFORCE: E[(m + std eps - y)^2] is
    # (m - y)^2 + std^2, so the exact gradient is that of the deterministic expected loss.
    from coagentnet.config import Config
    from coagentnet.rules.base import Problem
    from coagentnet.rules.registry import make_rule

    problem = Problem(in_dim=3, out_dim=1, task="regression")
    cfg = Config(
        dataset="boston", layers=2, units=2, stochastic_readout=True, baseline="layer_state"
    )
    rule = make_rule(cfg, problem)
    params, state = rule.init(jax.random.PRNGKey(5))
    params["hidden"] = jax.tree.map(lambda w: 2.5 * w, params["hidden"])
    x, _ = tiny_batch()
    y = jnp.array([[0.5], [-1.0], [0.0], [2.0]])
    mean_reward = -float(exact.expected_loss(network_part(params), x, y, "regression")) - 1.0
    params, state = with_good_baseline("layer_state", params, state, mean_reward)

    def one(key):
        grads, _ = jax.grad(rule.loss, has_aux=True)(params, state, x, y, key, CTX)
        return flat(network_part(grads))

    samples = np.asarray(jax.jit(jax.vmap(one))(KEYS))
    truth = np.asarray(
        flat(jax.grad(exact.expected_loss)(network_part(params), x, y, "regression"))
    )
    ok, zmax = passes(samples, truth)
    assert ok, f"max |z| = {zmax:.2f} >= {critical_z(len(truth)):.2f}"
