"""Partition networks: stochastic and deterministic hidden layers mixed (Gupta et al. 2021).

A layout string over {s, d}, one letter per hidden layer, makes layer t a layer of Gaussian
coagents (``s``: the pre-activation is sampled from N(mean, std^2), as in
:mod:`coagentnet.model.units`) or a deterministic layer (``d``: the activation of the mean). The
sampled nodes cut the network into blocks; each block ends at a sampled node (an ``s`` layer
or a stochastic read-out) and learns from that node's log-probability, by backpropagation
through the block's deterministic layers. Gradients never cross a sampled node: the state
after an ``s`` layer is a sample (``stop_gradient``). A deterministic read-out with the
trailing ``d`` layers before it forms the last block, trained by the ordinary gradient of the
loss, exactly as backprop would.

Special cases: ``"ss..s"`` is the plain Gaussian coagent network (:func:`coagentnet.model.network.
rollout`, bit for bit); ``"dd..d"`` with a stochastic read-out is REINFORCE backpropagated
through a deterministic MLP, an unbiased estimator of the gradient of the expected loss.
The authors used such partitions in their regression study (Gupta et al. 2021).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from coagentnet.model.network import Trace, layer_action, layer_policy, readout
from coagentnet.model.units import Units


def blocks(layout: str, stochastic_readout: bool) -> list[tuple[int, ...]]:
    """The layers of each block, bottom-up; the read-out is index ``len(layout)``.

    Example: ``blocks("dsd", True) == [(0, 1), (2, 3)]``.
    """
    out, current = [], []
    for t, kind in enumerate(layout + ("s" if stochastic_readout else "d")):
        current.append(t)
        if kind == "s":
            out.append(tuple(current))
            current = []
    if current:
        out.append(tuple(current))
    return out


def rollout(
    params: dict,
    x: jax.Array,
    key: jax.Array,
    unit: Units,
    std,
    layout: str,
    *,
    greedy: bool = False,
    stochastic_readout: bool = False,
    sample_mask: tuple | None = None,
) -> Trace:
    """Run B episodes through a partition network; the :class:`Trace` of ``network.rollout``.

    For a ``d`` layer the trace holds its pre-activation as the "action" (also its greedy
    action) and zero log-probability and entropy. ``trace.states`` carry no gradient (they
    feed baselines), but the log-probabilities, ``output`` and ``readout_logp`` keep the
    gradient through the deterministic layers of their block. ``sample_mask`` acts on the
    ``s`` layers as in ``network.rollout``.
    """
    assert len(layout) == len(params["hidden"]), (layout, len(params["hidden"]))
    keys = jax.random.split(key, len(layout) + 1)  # as network.rollout: same samples for "s"
    s_t = x  # differentiable inside a block
    states, actions, logps, entropies, greedies = [x], [], [], [], []
    for t, (kind, layer) in enumerate(zip(layout, params["hidden"], strict=True)):
        z = layer_policy(layer, s_t, unit)  # [B, U]: the mean, with the block's gradient
        if kind == "d":
            zeros = jnp.zeros_like(z)
            a = jax.lax.stop_gradient(z)
            logps.append(zeros)
            entropies.append(zeros)
            greedies.append(a)
            s_t = unit.value(z)  # the activation; the gradient flows on
        else:
            mask = None if sample_mask is None else sample_mask[t]
            a, logp, entropy, g = layer_action(
                z, keys[t], unit, std, greedy=greedy, sample_mask=mask
            )
            logps.append(logp)  # reaches back to the block's start
            entropies.append(entropy)
            greedies.append(g)
            s_t = jax.lax.stop_gradient(unit.value(a))  # a sampled node: the block ends
        actions.append(a)
        states.append(jax.lax.stop_gradient(s_t))
    output, prediction, readout_logp = readout(
        params["readout"], s_t, keys[-1], std, greedy=greedy, stochastic=stochastic_readout
    )
    return Trace(
        tuple(states),
        tuple(actions),
        tuple(logps),
        tuple(entropies),
        tuple(greedies),
        output,
        prediction,
        readout_logp,
    )
