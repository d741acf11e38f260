"""Baselines b_t subtracted from a policy-gradient signal (Gupta et al. 2021).

A baseline may depend on the state s_t but never on the action a_t; then the update stays
unbiased for any b_t (the coagent policy-gradient theorem). Kinds (:data:`BASELINES`):

- ``none``: b_t = 0;
- ``ema``: a scalar running average of the batch-mean reward (decay 0.99 by default),
  initialised to the first batch's mean reward and updated after the step, so the first step
  has no baseline;
- ``state``: one learned linear V(x) (zero-initialised, Monte Carlo regression to r) shared
  by every layer;
- ``layer_state``: one learned linear V_t(s_t) per hidden layer, plus one on s_L for a
  stochastic read-out;
- ``loo`` (beyond the paper; Kool, van Hoof and Welling 2019, "Buy 4 REINFORCE samples, get
  a baseline for free"): every example is rolled out S times (``Baseline.samples``, set from
  ``Config.loo_samples``) and each rollout's baseline is the mean return of the other S - 1
  rollouts of the same example. Those rollouts are independent of this one's actions, so the
  update stays unbiased; it costs S forward passes per example.
- ``self_critical`` (beyond the paper; the "self-critical" baseline of Rennie et al. 2017,
  applied per layer): b_t = the return when layer t and every layer after it act greedily from
  the visited s_t, i.e. -loss(greedy forward of layers t..L-1 and the read-out from s_t), and
  b_L = -loss of the read-out's mean. It depends on s_t (and the example) but not on a_t, so
  REINFORCE stays unbiased for the expected loss and ``greedy_return`` for its greedy-
  continuation objective; for ``greedy_return`` the signal minus it, G_t(a_t) - G_t(greedy
  a_t), is how much the sampled action beats the greedy one under the same continuation. It
  costs L partial greedy forwards, computed by the rule (``Baseline.greedy_returns``).

A kind is a :class:`Baseline`, four pure functions; a new kind is one constructor and one line
in :data:`BASELINES`. Per-layer baselines are a tuple of L + 1 arrays ``[B]``: index t < L for
hidden layer t, index L for the (stochastic) read-out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from coagentnet.model.losses import regression_loss
from coagentnet.model.network import Trace, init_linear, linear


class Baseline(NamedTuple):
    """One baseline kind.

    - ``init(state_dims) -> (params, state)`` for states of widths ``state_dims = (d_0..d_L)``;
    - ``values(params, state, trace) -> (b_0..b_L)``, each ``[B]``, with no gradient; a
      multi-sample kind (``samples > 1``) takes a fourth argument, ``r_groups [B / S, S]``:
      the batch's returns grouped by example (rollout j of example i is row ``i * S + j``);
      a kind with ``greedy_returns`` takes as fourth argument the tuple of L + 1 greedy returns
      ``[B]`` from each visited state (:func:`coagentnet.rules.greedy.self_critical_returns`);
    - ``loss(params, trace, r) -> scalar``: the regression of learned baselines to r ``[B]``;
    - ``update(state, r, decay) -> state``: the non-learned state after the step;
    - ``samples``: rollouts per example the rule must draw (1 except for multi-sample kinds);
    - ``greedy_returns``: ``values`` needs the greedy returns (the rule computes them).
    """

    init: Callable
    values: Callable
    loss: Callable
    update: Callable
    samples: int = 1
    greedy_returns: bool = False


class EmaState(NamedTuple):
    """The ema baseline's running average ``value`` and whether it has seen a batch yet."""

    value: jax.Array
    ready: jax.Array


def _no_loss(params, trace: Trace, r: jax.Array) -> jax.Array:
    return jnp.zeros(())


def _unchanged(state, r: jax.Array, decay):
    return state


def _zeros(params, state, trace: Trace) -> tuple[jax.Array, ...]:
    return (jnp.zeros(trace.states[0].shape[0]),) * len(trace.states)


def none() -> Baseline:
    """b_t = 0."""
    return Baseline(lambda state_dims: ({}, {}), _zeros, _no_loss, _unchanged)


def ema() -> Baseline:
    """A scalar running average of the batch-mean reward, the same for every layer."""

    def values(params, state: EmaState, trace: Trace):
        b = jnp.where(state.ready, state.value, 0.0)
        return (jnp.full(trace.states[0].shape[0], b),) * len(trace.states)

    def update(state: EmaState, r: jax.Array, decay) -> EmaState:
        mean_r = jnp.mean(r)
        value = jnp.where(state.ready, decay * state.value + (1.0 - decay) * mean_r, mean_r)
        return EmaState(value, jnp.ones((), bool))

    init = lambda state_dims: ({}, EmaState(jnp.zeros(()), jnp.zeros((), bool)))  # noqa: E731
    return Baseline(init, values, _no_loss, update)


def _learned(init: Callable, state_values: Callable, loss: Callable) -> Baseline:
    """A learned baseline from ``state_values(params, trace) -> (v_0..v_L)`` (with gradient)."""

    def values(params, state, trace: Trace):
        return tuple(jax.lax.stop_gradient(v) for v in state_values(params, trace))

    return Baseline(init, values, loss, _unchanged)


def state() -> Baseline:
    """One learned linear V(x) shared by every layer."""

    def state_values(params, trace: Trace):
        return (linear(params["v"], trace.states[0])[:, 0],) * len(trace.states)

    def loss(params, trace: Trace, r: jax.Array) -> jax.Array:
        return regression_loss(state_values(params, trace)[0], r)

    def init(state_dims):
        return {"v": init_linear(None, state_dims[0], 1, zero=True)}, {}

    return _learned(init, state_values, loss)


def layer_state() -> Baseline:
    """One learned linear V_t(s_t) per layer (and one on s_L for a stochastic read-out)."""

    def state_values(params, trace: Trace):
        return tuple(linear(p, s)[:, 0] for p, s in zip(params["v"], trace.states, strict=True))

    def loss(params, trace: Trace, r: jax.Array) -> jax.Array:
        return sum(regression_loss(v, r) for v in state_values(params, trace))

    def init(state_dims):
        return {"v": tuple(init_linear(None, d, 1, zero=True) for d in state_dims)}, {}

    return _learned(init, state_values, loss)


def loo() -> Baseline:
    """Leave-one-out over S rollouts of each example: b = (sum of the S returns - own) / (S - 1).

    S is read from ``r_groups``; :func:`baseline` sets ``samples`` (2 here marks the kind as
    multi-sample).
    """

    def values(params, state, trace: Trace, r_groups: jax.Array):
        total = jnp.sum(r_groups, axis=1, keepdims=True)
        b = jax.lax.stop_gradient((total - r_groups) / (r_groups.shape[1] - 1)).reshape(-1)
        return (b,) * len(trace.states)

    return Baseline(lambda state_dims: ({}, {}), values, _no_loss, _unchanged, samples=2)


def self_critical() -> Baseline:
    """b_t = G^greedy_t(s_t), the return of acting greedily from s_t on (given by the rule)."""

    def values(params, state, trace: Trace, greedy_returns: tuple):
        assert len(greedy_returns) == len(trace.states), (len(greedy_returns), len(trace.states))
        return tuple(jax.lax.stop_gradient(g) for g in greedy_returns)

    init = lambda state_dims: ({}, {})  # noqa: E731
    return Baseline(init, values, _no_loss, _unchanged, greedy_returns=True)


#: Baseline kind -> its constructor. The one list of baseline names (config validation reads it).
BASELINES: dict[str, Callable[[], Baseline]] = {
    "none": none,
    "ema": ema,
    "state": state,
    "layer_state": layer_state,
    "loo": loo,
    "self_critical": self_critical,
}


def baseline(kind: str, samples: int = 2) -> Baseline:
    """The :class:`Baseline` named ``kind``; ``samples`` is S for the multi-sample kind ``loo``
    (the others ignore it)."""
    made = BASELINES[kind]()
    return made._replace(samples=samples) if made.samples > 1 else made
