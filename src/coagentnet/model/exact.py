"""Exact oracle for tiny Bernoulli coagent networks (Gupta et al. 2021).

With L layers of U Bernoulli units there are C = 2^U configurations per layer. Because the
transition is deterministic (s_{t+1} = a_t), the distribution of s_{t+1} is a Markov chain over
configurations: ``p(s_1 | x)`` is ``[B, C]`` and layer t > 0 has a transition matrix ``[C, C]``.
Enumerating it gives the exact expected loss, whose ``jax.grad`` is the exact gradient that
unbiased rules must match, and the greedy-continuation objectives of the off-policy rule.
Only for tiny networks: cost grows as 4^U per layer.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp

from coagentnet.model.losses import task_loss
from coagentnet.model.network import greedy_continuation, linear
from coagentnet.model.units import unit_type

BERNOULLI = unit_type("bernoulli")


def configurations(units: int) -> jax.Array:
    """All 2^U binary configurations of a layer, ``[C, U]`` float32."""
    return jnp.asarray(list(itertools.product((0.0, 1.0), repeat=units)), dtype=jnp.float32)


def _action_probs(layer: dict, s: jax.Array, configs: jax.Array) -> jax.Array:
    """pi_t(a | s) for every configuration a: ``s [N, D]`` -> ``[N, C]``."""
    z = linear(layer, s)  # [N, U]
    logp = BERNOULLI.log_prob(z[:, None, :], configs[None, :, :], 1.0)  # [N, C, U]
    return jnp.exp(jnp.sum(logp, axis=-1))


def state_distributions(params: dict, x: jax.Array) -> list[jax.Array]:
    """Exact ``p(s_t | x)`` over configurations for t = 1..L, each ``[B, C]``."""
    layers = params["hidden"]
    configs = configurations(layers[0]["b"].shape[0])
    dist = _action_probs(layers[0], x, configs)
    dists = [dist]
    for layer in layers[1:]:
        dist = dist @ _action_probs(layer, configs, configs)
        dists.append(dist)
    return dists


def expected_loss(params: dict, x: jax.Array, y: jax.Array, task: str) -> jax.Array:
    """Exact E[loss] averaged over the batch (a scalar); ``jax.grad`` of it is exact."""
    configs = configurations(params["hidden"][0]["b"].shape[0])
    final = state_distributions(params, x)[-1]  # [B, C]
    outputs = linear(params["readout"], configs)  # [C, O]
    losses = jax.vmap(lambda o: task_loss(task, jnp.broadcast_to(o, (x.shape[0],) + o.shape), y))(
        outputs
    )  # [C, B]
    return jnp.mean(jnp.sum(final * losses.T, axis=-1))


def greedy_return(params: dict, s_next: jax.Array, t: int, y: jax.Array, task: str) -> jax.Array:
    """Q_t^greedy(s_t, a_t) = -loss when layers t+1.. act greedily from s_{t+1} = a_t.

    ``s_next [B, U]`` (the value of a_t), ``y [B]`` -> ``[B]``. Does not depend on s_t because
    the transition is deterministic.
    """
    return -task_loss(task, greedy_continuation(params, s_next, t + 1, BERNOULLI), y)


def greedy_objective(params: dict, x: jax.Array, y: jax.Array, t: int, task: str) -> jax.Array:
    """Off-policy objective of layer t: E_{s_t}[sum_a pi_t(a|s_t) Q_t^greedy(s_t, a)].

    s_t follows the sampling policies of layers < t. The gradient with respect to layer t's
    parameters is what the off-policy rule estimates with exact critics (Gupta et al. 2021).
    """
    layers = params["hidden"]
    configs = configurations(layers[0]["b"].shape[0])
    B = x.shape[0]
    q = jax.vmap(lambda a: greedy_return(params, jnp.broadcast_to(a, (B, a.shape[0])), t, y, task))(
        configs
    ).T  # [B, C]: return of each action of layer t
    if t == 0:
        pi = _action_probs(layers[0], x, configs)  # [B, C]
        return jnp.mean(jnp.sum(pi * q, axis=-1))
    p_s = state_distributions(params, x)[t - 1]  # [B, C] over s_t
    pi = _action_probs(layers[t], configs, configs)  # [C(s_t), C(a)]
    return jnp.mean(jnp.einsum("bs,sa,ba->b", p_s, pi, q))


def sampled_return(params: dict, s_next: jax.Array, t: int, y: jax.Array, task: str) -> jax.Array:
    """Q_t^pi(s_t, a_t) = -E[loss] when layers t+1.. sample from their policies from
    s_{t+1} = a_t: the exact on-policy critic of ``actor_critic``. ``s_next [B, U]`` -> ``[B]``.
    """
    layers = params["hidden"]
    configs = configurations(layers[0]["b"].shape[0])
    if t == len(layers) - 1:  # only the deterministic read-out is left
        return -task_loss(task, linear(params["readout"], s_next), y)
    dist = _action_probs(layers[t + 1], s_next, configs)  # [B, C] over s_{t+2}
    for layer in layers[t + 2 :]:
        dist = dist @ _action_probs(layer, configs, configs)
    outputs = linear(params["readout"], configs)  # [C, O]
    B = s_next.shape[0]
    losses = jax.vmap(lambda o: task_loss(task, jnp.broadcast_to(o, (B,) + o.shape), y))(outputs)
    return -jnp.sum(dist * losses.T, axis=-1)
