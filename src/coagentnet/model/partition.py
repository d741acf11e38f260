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

from coagentnet.model import network
from coagentnet.model.network import Trace
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
    return network.rollout(
        params,
        x,
        key,
        unit,
        std,
        greedy=greedy,
        stochastic_readout=stochastic_readout,
        sample_mask=sample_mask,
        layout=layout,
    )
