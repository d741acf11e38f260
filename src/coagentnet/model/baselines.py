"""Baselines b_t subtracted from a policy-gradient signal (SPEC.md section 4).

A baseline may depend on the state s_t but never on the action a_t; then the update stays
unbiased for any b_t (the coagent policy-gradient theorem). Kinds:

- ``none``: b_t = 0;
- ``ema``: a scalar running average of the batch-mean reward (decay 0.99 by default),
  initialised to the first batch's mean reward and updated after the step, so the first step
  has no baseline;
- ``state``: one learned linear V(x) (zero-initialised, Monte Carlo regression to r) shared
  by every layer;
- ``layer_state``: one learned linear V_t(s_t) per hidden layer, plus one on s_L for a
  stochastic read-out.

Every function returns per-layer baselines as a tuple of L + 1 arrays ``[B]``: index t < L for
hidden layer t, index L for the (stochastic) read-out.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from coagentnet.model.losses import regression_loss
from coagentnet.model.network import Trace, init_linear, linear


def init(kind: str, state_dims: tuple[int, ...]) -> tuple[dict, dict]:
    """(learned params, non-learned state) for states of widths ``state_dims = (d_0..d_L)``."""
    if kind == "state":
        return {"v": init_linear(None, state_dims[0], 1, zero=True)}, {}
    if kind == "layer_state":
        return {"v": tuple(init_linear(None, d, 1, zero=True) for d in state_dims)}, {}
    if kind == "ema":
        return {}, {"value": jnp.zeros(()), "ready": jnp.zeros((), bool)}
    return {}, {}


def _state_values(kind: str, params: dict, trace: Trace) -> tuple[jax.Array, ...]:
    if kind == "state":
        v = linear(params["v"], trace.states[0])[:, 0]
        return (v,) * len(trace.states)
    return tuple(linear(p, s)[:, 0] for p, s in zip(params["v"], trace.states, strict=True))


def values(kind: str, params: dict, state: dict, trace: Trace) -> tuple[jax.Array, ...]:
    """Baselines b_0..b_L, each ``[B]``, with no gradient."""
    batch = trace.states[0].shape[0]
    n = len(trace.states)
    if kind == "none":
        return (jnp.zeros(batch),) * n
    if kind == "ema":
        b = jnp.where(state["ready"], state["value"], 0.0)
        return (jnp.full(batch, b),) * n
    return tuple(jax.lax.stop_gradient(v) for v in _state_values(kind, params, trace))


def loss(kind: str, params: dict, trace: Trace, r: jax.Array) -> jax.Array:
    """Monte Carlo regression of the learned baselines to the return r ``[B]``."""
    if kind == "state":
        return regression_loss(_state_values(kind, params, trace)[0], r)
    if kind == "layer_state":
        return sum(regression_loss(v, r) for v in _state_values(kind, params, trace))
    return jnp.zeros(())


def update(kind: str, state: dict, r: jax.Array, decay) -> dict:
    """State after the step (the ema baseline's running average)."""
    if kind != "ema":
        return state
    mean_r = jnp.mean(r)
    value = jnp.where(state["ready"], decay * state["value"] + (1.0 - decay) * mean_r, mean_r)
    return {"value": value, "ready": jnp.ones((), bool)}
