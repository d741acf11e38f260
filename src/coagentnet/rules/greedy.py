"""Exact greedy-continuation signals: the ``greedy_return`` and ``greedy_counterfactual`` rules.

The off-policy rule of Gupta et al. (2021) teaches hidden layer t with a critic's estimate of
Q_t^greedy(s_t, a_t), the return when every layer after t acts greedily (as the network is
tested). Because the transition is deterministic (s_{t+1} = value(a_t)), that return is one
greedy forward pass of layers t+1..L-1 and the read-out from the sampled s_{t+1}:

    G_t = -loss(greedy_continuation(s_{t+1}), y)   for t < L - 1,      G_{L-1} = r.

These functions compute it exactly instead of learning it (no critic), so the paper's idea can be
told apart from its critic's error:

- :func:`continuation_returns`: G_0..G_{L-1}, the ``greedy_return`` signal; with exact critics
  it equals the off-policy rule's signal y_t (tests check this), and its expected update is the
  gradient of the greedy-continuation objective J_t = E_{s_t}[sum_a pi_t(a|s_t) G_t(a)]
  (:func:`coagentnet.model.exact.greedy_objective`). Biased for the expected loss by design.
- :func:`counterfactual_returns` and :func:`counterfactual_surrogate`: the
  ``greedy_counterfactual`` rule. Unit i of layer t follows sum_k grad pi_i(k|s_t) G_t(a^{i<-k}),
  a^{i<-k} the sampled a_t with unit i set to action k (Bernoulli: grad p_i (G(a_i=1) -
  G(a_i=0))). Summing over a unit's actions integrates that unit's own sampling out exactly, so
  the expected update is the same gradient of J_t with less variance. Cost: U (K - 1) partial
  forwards per layer, vmapped.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from coagentnet.model.losses import task_loss
from coagentnet.model.network import Trace, greedy_continuation, layer_policy, linear
from coagentnet.model.units import Units


def continuation_returns(
    params: dict,
    trace: Trace,
    r: jax.Array,
    y: jax.Array,
    unit: Units,
    task: str,
    continuation: Callable = greedy_continuation,
) -> tuple[jax.Array, ...]:
    """G_0..G_{L-1}, each ``[B]`` with no gradient: G_t = -loss of ``continuation`` from
    s_{t+1} (layers t+1.. and the read-out), G_{L-1} = r (the return itself).

    ``continuation(params, s, start, unit) -> [B, out]`` is the greedy forward by default; a test
    passes a sampled one as a negative control. Gupta et al. (2021).
    """
    L = len(trace.actions)
    g = tuple(
        -task_loss(task, continuation(params, trace.states[t + 1], t + 1, unit), y)
        for t in range(L - 1)
    )
    return jax.lax.stop_gradient(g + (r,))


def self_critical_returns(
    params: dict, trace: Trace, y: jax.Array, unit: Units, task: str
) -> tuple[jax.Array, ...]:
    """G^greedy_0..G^greedy_L, each ``[B]`` with no gradient: G^greedy_t = -loss when layer t
    and every layer after it act greedily from the visited s_t (t < L), G^greedy_L = -loss of
    the read-out's mean at s_L. The ``self_critical`` baseline
    (:func:`coagentnet.model.baselines.self_critical`): a function of s_t, not of a_t.
    """
    L = len(trace.actions)
    g = tuple(
        -task_loss(task, greedy_continuation(params, unit.value(trace.greedy[t]), t + 1, unit), y)
        for t in range(L)
    )
    return jax.lax.stop_gradient(g + (-task_loss(task, trace.output, y),))


def counterfactual_returns(
    params: dict, trace: Trace, t: int, y: jax.Array, unit: Units, task: str
) -> jax.Array:
    """G_t(a^{i<-k}) for every unit i and action k of layer t: ``[B, U, K]``, no gradient.

    The other units of layer t keep their sampled actions; layers t+1.. and the read-out act
    greedily. Only the U (K - 1) actions a unit did not take need a forward pass (shifted by
    j = 1..K-1 modulo K); the taken one is the unmodified return, computed once. Each variant's
    next pre-activation is a rank-one update of the unmodified one.
    """
    a = trace.actions[t]  # [B, U] raw actions (bits or indices)
    B, U = a.shape
    K = unit.num_actions
    L = len(params["hidden"])
    # Changing unit i's action moves the next affine layer's pre-activation by a rank-one term,
    # dv * w[i], so the first matmul of each variant is the unmodified one plus that term.
    nxt = params["hidden"][t + 1] if t + 1 < L else params["readout"]
    h = linear(nxt, trace.states[t + 1])  # [B, W]

    def ret(h_var):  # [B, W] pre-activation of the next layer -> [B]
        if t + 1 == L:
            return -task_loss(task, h_var, y)
        s = unit.value(unit.greedy(unit.head(h_var)))
        return -task_loss(task, greedy_continuation(params, s, t + 2, unit), y)

    shifts = jnp.arange(1, K)  # action (a_i + j) mod K for j = 1..K-1
    shifted = jnp.mod(a[None] + shifts[:, None, None].astype(a.dtype), K).astype(a.dtype)
    dv = unit.value(shifted) - unit.value(a)[None]  # [K-1, B, U]
    # h with unit i shifted by j: [U, K-1, B, W]
    variants = h + jnp.einsum("jbi,iw->ijbw", dv, nxt["w"])
    g_shift = jax.vmap(jax.vmap(ret))(variants)  # [U, K-1, B]
    g_taken = ret(h)  # [B]
    ks = jnp.arange(K)  # action k of unit i is shift (k - a_i) mod K
    shift_of = jnp.mod(ks[None, None, :] - a[..., None].astype(jnp.int32), K)  # [B, U, K]
    g_shift = jnp.moveaxis(g_shift, -1, 0)  # [B, U, K-1]
    gathered = jnp.take_along_axis(g_shift, jnp.maximum(shift_of - 1, 0), axis=-1)
    out = jnp.where(shift_of == 0, g_taken[:, None, None], gathered)
    return jax.lax.stop_gradient(out)


def action_probs(params: dict, trace: Trace, t: int, unit: Units) -> jax.Array:
    """pi_{t,i}(k | s_t) for every unit and action, ``[B, U, K]``, differentiable in layer t."""
    z = layer_policy(params["hidden"][t], trace.states[t], unit)
    B, U = trace.actions[t].shape
    probs = [
        jnp.exp(unit.log_prob(z, jnp.full((B, U), k, trace.actions[t].dtype), 1.0))
        for k in range(unit.num_actions)
    ]
    return jnp.stack(probs, axis=-1)


def counterfactual_surrogate(
    probs: jax.Array, returns: jax.Array, mask: jax.Array | None = None
) -> jax.Array:
    """``-mean_b sum_{i,k} mask_i pi_i(k) sg(G(a^{i<-k}))``: its gradient is the negated
    counterfactual update of one layer. ``probs``, ``returns``: ``[B, U, K]``; ``mask``: ``[U]``
    (units outside an exploration subset, or of a frozen layer, get no term) or None.
    """
    assert probs.shape == returns.shape, (probs.shape, returns.shape)
    per_unit = jnp.sum(probs * jax.lax.stop_gradient(returns), axis=-1)  # [B, U]
    if mask is not None:
        per_unit = per_unit * mask
    return -jnp.mean(jnp.sum(per_unit, axis=-1))
