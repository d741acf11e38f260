"""Staged training: bottom-up greedy freezing of hidden layers (Gupta et al. 2021).

With L hidden layers and E epochs, hidden layer n becomes greedy and frozen after epoch
floor((n + 1) / L * E): from that (0-based) epoch on it takes its greedy action in training,
gets no policy-gradient term and its parameters never change again. The last hidden layer
(n = L - 1, whose freeze epoch would be E) and the read-out never freeze. This is the authors'
layer-wise schedule (Gupta et al. 2021).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def freeze_epoch(layer: int, layers: int, epochs: int) -> int | None:
    """First 0-based epoch in which ``layer`` is frozen, or None if it never freezes."""
    if layer >= layers - 1:
        return None
    # Integer arithmetic: floor((n + 1) / L * E) without floating-point rounding.
    return (layer + 1) * epochs // layers


def frozen_layers(epoch, layers: int, epochs: int) -> jax.Array:
    """``[L]`` booleans: which hidden layers are frozen during ``epoch`` (may be traced)."""
    never = epochs + 1  # later than any epoch of the run
    starts = [freeze_epoch(n, layers, epochs) for n in range(layers)]
    starts = jnp.asarray([never if s is None else s for s in starts])
    return jnp.asarray(epoch) >= starts


def step_mask(layers: int, epochs: int):
    """``mask_steps(steps, ctx) -> steps`` that zeroes the steps of frozen hidden layers.

    Zero gradients alone would not keep a layer fixed: Adam's momentum (and any optimiser
    state) would keep moving it. ``jnp.where`` (not a multiplication) keeps the step exactly
    zero even if the optimiser produced a non-finite value for a frozen layer.
    """

    def mask_steps(steps: dict, ctx) -> dict:
        frozen = frozen_layers(ctx.epoch, layers, epochs)
        hidden = tuple(
            jax.tree.map(lambda u, f=frozen[n]: jnp.where(f, jnp.zeros_like(u), u), layer)
            for n, layer in enumerate(steps["hidden"])
        )
        return {**steps, "hidden": hidden}

    return mask_steps
