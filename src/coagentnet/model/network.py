"""Coagent networks: L stochastic hidden layers and a read-out (Gupta et al. 2021).

Layer t is time step t of a finite-horizon episode: state ``s_0 = x``, action ``a_t ~ pi_t(.|s_t)``
and the deterministic transition ``s_{t+1} = value(a_t)``. States are samples, so no gradient
flows between layers; each layer's log-probability is differentiable in its own parameters only.

Parameters are a dict ``{"hidden": (layer_0, ..., layer_{L-1}), "readout": layer}`` with
``layer = {"w": [in, out], "b": [out]}``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from coagentnet.model.units import Units, unit_type


class Trace(NamedTuple):
    """One rollout of a batch of B episodes through L hidden layers.

    states:   (s_0, ..., s_L), s_0 = x ``[B, D]``, s_{t+1} ``[B, U]`` (no gradient).
    actions:  raw actions a_t ``[B, U]`` (bits, indices or Gaussian pre-activations).
    logp:     log pi_t(a_t | s_t) per unit ``[B, U]``, differentiable in layer t's parameters.
    entropy:  policy entropy per unit ``[B, U]``.
    greedy:   greedy raw action of layer t at the visited s_t ``[B, U]``.
    output:   read-out at s_L: logits or mean ``[B, out]`` (differentiable in the read-out).
    prediction: what the loss is taken of: ``output``, or a Gaussian sample of it for a
              stochastic read-out ``[B, out]`` (no gradient then).
    readout_logp: log-density of that sample ``[B]`` (zeros for a deterministic read-out).
    """

    states: tuple
    actions: tuple
    logp: tuple
    entropy: tuple
    greedy: tuple
    output: jax.Array
    prediction: jax.Array
    readout_logp: jax.Array


def init_linear(key: jax.Array, fan_in: int, fan_out: int, zero: bool = False) -> dict:
    """Affine layer with PyTorch's default init U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    if zero:
        return {"w": jnp.zeros((fan_in, fan_out)), "b": jnp.zeros((fan_out,))}
    kw, kb = jax.random.split(key)
    bound = 1.0 / jnp.sqrt(max(fan_in, 1))
    return {
        "w": jax.random.uniform(kw, (fan_in, fan_out), minval=-bound, maxval=bound),
        "b": jax.random.uniform(kb, (fan_out,), minval=-bound, maxval=bound),
    }


def linear(layer: dict, x: jax.Array) -> jax.Array:
    """``x [B, in] -> [B, out]``."""
    return x @ layer["w"] + layer["b"]


def init_network(
    key: jax.Array, in_dim: int, out_dim: int, layers: int, units: int, unit: Units
) -> dict:
    """Parameters of a network with ``layers`` hidden layers of ``units`` units."""
    keys = jax.random.split(key, layers + 1)
    hidden, fan_in = [], in_dim
    for t in range(layers):
        hidden.append(init_linear(keys[t], fan_in, unit.width(units)))
        fan_in = units
    return {"hidden": tuple(hidden), "readout": init_linear(keys[-1], fan_in, out_dim)}


def layer_policy(layer: dict, s_t: jax.Array, unit: Units) -> jax.Array:
    """Policy parameters (logits or means) of layer t at state s_t."""
    return unit.head(linear(layer, s_t))


def layer_action(
    z: jax.Array, key: jax.Array, unit: Units, std, *, greedy: bool, sample_mask=None
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """A stochastic layer's action at policy parameters ``z``: ``(a, logp, entropy, g)``.

    ``a`` is sampled (or, with ``greedy``, the greedy action ``g``); with ``sample_mask`` (``[U]``
    booleans) only the marked units sample and the others take ``g``. ``logp`` is
    log pi(a | s) per unit, differentiable in ``z``; all are ``[B, U]``.
    """
    g = unit.greedy(z)
    a = g if greedy else unit.sample(key, z, std)
    if sample_mask is not None and not greedy:
        a = jnp.where(sample_mask, a, g)
    return a, unit.log_prob(z, a, std), unit.entropy(z, std), g


def rollout(
    params: dict,
    x: jax.Array,
    key: jax.Array,
    unit: Units,
    std,
    *,
    greedy: bool = False,
    stochastic_readout: bool = False,
    sample_mask: tuple | None = None,
    layout: str | None = None,
) -> Trace:
    """Run B episodes: sample (or, with ``greedy``, take the greedy action at) every layer.

    ``x``: ``[B, D]``; ``std``: Gaussian unit (and read-out) standard deviation, a scalar.
    ``sample_mask``: optional per-layer ``[U]`` booleans; in a sampled rollout only the units
    marked True sample and the others take their greedy action (exploration subsets, staged
    training). ``logp`` is still that of the action taken, for every unit.
    ``layout``: a partition network's letters (:mod:`coagentnet.model.partition`, which
    documents the ``d`` layers); None: every layer stochastic.
    """
    layers = params["hidden"]
    keys = jax.random.split(key, len(layers) + 1)
    s_t = x  # differentiable inside a partition block
    states, actions, logps, entropies, greedies = [s_t], [], [], [], []
    for t, layer in enumerate(layers):
        z = layer_policy(layer, s_t, unit)
        if layout is not None and layout[t] == "d":  # deterministic: no sample, no PG term
            a = g = jax.lax.stop_gradient(z)
            logp = entropy = jnp.zeros_like(z)
            s_t = unit.value(z)  # the gradient flows on to the block's sampled node
        else:
            mask = None if sample_mask is None else sample_mask[t]
            a, logp, entropy, g = layer_action(
                z, keys[t], unit, std, greedy=greedy, sample_mask=mask
            )
            s_t = jax.lax.stop_gradient(unit.value(a))  # a sampled node: a block ends
        logps.append(logp)
        entropies.append(entropy)
        greedies.append(g)
        actions.append(a)
        states.append(jax.lax.stop_gradient(s_t))  # states feed baselines: no gradient
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


def readout(
    layer: dict, s_L: jax.Array, key: jax.Array, std, *, greedy: bool, stochastic: bool
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The read-out at ``s_L [B, U]``: ``(output [B, out], prediction [B, out], logp [B])``.

    Deterministic: the prediction is the output and logp is zero. Stochastic (a Gaussian unit
    trained by REINFORCE): the prediction is a sample around the output (its mean when
    ``greedy``), with no gradient, and logp its log-density, differentiable in the mean.
    """
    output = linear(layer, s_L)
    if not stochastic:
        return output, output, jnp.zeros(s_L.shape[:1])
    mean = output
    if greedy:
        prediction = jax.lax.stop_gradient(mean)
    else:
        noise = jax.random.normal(key, mean.shape, mean.dtype)
        prediction = jax.lax.stop_gradient(mean + std * noise)
    readout_logp = jnp.sum(unit_type("gaussian").log_prob(mean, prediction, std), axis=-1)
    return output, prediction, readout_logp


def greedy_continuation(params: dict, s: jax.Array, start: int, unit: Units) -> jax.Array:
    """Read-out output when layers ``start..L-1`` act greedily from state ``s = s_start``.

    ``start`` may equal L (then it is the read-out of ``s``). Returns ``[B, out]``.
    """
    for layer in params["hidden"][start:]:
        s = unit.value(unit.greedy(layer_policy(layer, s, unit)))
    return linear(params["readout"], s)
