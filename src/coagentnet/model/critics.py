"""Per-layer action-value critics Q_t(s_t, a_t) and their bootstrap targets (Gupta et al. 2021).

Each hidden layer t has a critic: an MLP (``depth`` hidden ReLU layers of ``width`` units) on
``concat(s_t, value(a_t))`` with a scalar output. Targets, formed from the critics as they are
at the start of the step (all critics then take one joint step; the authors instead stepped
critic t+1 before forming critic t's target):

- ``sampled`` (on-policy actor-critic): y_{L-1} = r, y_t = Q_{t+1}(s_{t+1}, a_{t+1});
- ``greedy`` (off-policy, Gupta et al. 2021): y_{L-1} = r,
  y_t = Q_{t+1}(s_{t+1}, greedy action of layer t+1 at s_{t+1}); by recursion Q_t estimates
  the return when every downstream layer acts greedily, as the network is tested;
- ``monte_carlo``: y_t = r for every t (no bootstrapping).

The last hidden layer's target is exactly r because the read-out is deterministic given s_L.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from coagentnet.model.network import init_linear, linear

BOOTSTRAPS = ("sampled", "greedy", "monte_carlo")


def init_mlp(key: jax.Array, in_dim: int, width: int, depth: int) -> tuple:
    """MLP ``in_dim -> width (x depth, ReLU) -> 1`` as a tuple of affine layers."""
    keys = jax.random.split(key, depth + 1)
    dims = (in_dim,) + (width,) * depth + (1,)
    return tuple(init_linear(k, a, b) for k, a, b in zip(keys, dims[:-1], dims[1:], strict=True))


def init(key: jax.Array, state_dims: tuple[int, ...], units: int, width: int, depth: int) -> tuple:
    """One critic per hidden layer; ``state_dims[t]`` is the width of s_t."""
    keys = jax.random.split(key, len(state_dims))
    return tuple(
        init_mlp(k, d + units, width, depth) for k, d in zip(keys, state_dims, strict=True)
    )


def q_value(
    critic: tuple, s_t: jax.Array, a_value: jax.Array, input_norm: bool = False
) -> jax.Array:
    """Q_t(s_t, a_t): ``s_t [B, D_t]``, ``a_value [B, U]`` -> ``[B]``.

    ``input_norm``: standardise each example's input concat(s_t, a_t) to mean 0 and variance 1
    across its features first (layer normalisation without a learned scale; Ba et al. 2016),
    so the first critic, whose input is the image, sees inputs of the same scale as the rest.
    """
    h = jnp.concatenate([s_t, a_value], axis=-1)
    if input_norm:
        mean = jnp.mean(h, axis=-1, keepdims=True)
        h = (h - mean) * jax.lax.rsqrt(jnp.var(h, axis=-1, keepdims=True) + 1e-5)
    for layer in critic[:-1]:
        h = jax.nn.relu(linear(layer, h))
    return linear(critic[-1], h)[:, 0]


def polyak(target: tuple, critics: tuple, tau: float) -> tuple:
    """Target critics after one step: ``(1 - tau) * target + tau * critics`` leaf by leaf (no
    gradient). Bootstrapping from a slowly moving copy is the DQN / DDPG remedy for targets
    that chase the critic being fitted (Mnih et al. 2015; Lillicrap et al. 2016)."""
    return jax.tree_util.tree_map(
        lambda old, new: (1.0 - tau) * old + tau * jax.lax.stop_gradient(new), target, critics
    )


def targets(bootstrap: str, r: jax.Array, q_next: tuple) -> tuple:
    """Critic targets y_0..y_{L-1}, each ``[B]``, with no gradient.

    ``q_next[t]`` is Q_{t+1}(s_{t+1}, a'_{t+1}) for t = 0..L-2, where a' is the sampled action
    (``sampled``) or the greedy action (``greedy``); unused for ``monte_carlo``.
    """
    assert bootstrap in BOOTSTRAPS, bootstrap
    if bootstrap == "monte_carlo":
        return (r,) * (len(q_next) + 1)
    return tuple(jax.lax.stop_gradient(q) for q in q_next) + (r,)
