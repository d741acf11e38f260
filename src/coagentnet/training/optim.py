"""Optimisers without a baked-in learning rate, so that every population member has its own.

The optax transformation computes the direction (RMSprop, Adam or SGD, after optional
global-norm clipping of this network's gradient alone); :func:`scale_updates` then multiplies by
``-lr`` per member, and each parameter group a rule declares (``Rule.step_scales``: the
critics, by ``critic_ratio``) by its own population scalar. Because each of these optimisers
is linear in its learning rate, this equals an optimiser per parameter group with its own
learning rate (PyTorch semantics: RMSprop adds eps outside the square root and starts its
second-moment average at zero).
"""

from __future__ import annotations

import jax
import optax

from coagentnet.config import Config


def make_optimizer(cfg: Config) -> optax.GradientTransformation:
    """Clip (optional) then RMSprop(0.99, 1e-8) / Adam(0.9, 0.999, 1e-8) / SGD, unscaled."""
    if cfg.optimizer == "rmsprop":
        direction = optax.scale_by_rms(decay=0.99, eps=1e-8, initial_scale=0.0, eps_in_sqrt=False)
    elif cfg.optimizer == "adam":
        direction = optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-8)
    else:
        direction = optax.identity()
    if cfg.clip_norm > 0:
        return optax.chain(optax.clip_by_global_norm(cfg.clip_norm), direction)
    return direction


def scale_updates(updates: dict, hyper, step_scales: tuple[tuple[str, str], ...] = ()) -> dict:
    """Turn directions into steps: ``-lr`` for every parameter group, times the population
    scalar ``step_scales`` names for a group (``(group, scalar)`` pairs, ``Rule.step_scales``)."""
    factors = {group: hyper[scalar] for group, scalar in step_scales}
    lr = hyper["lr"]

    def step(sub, f):
        return jax.tree.map(lambda u: -lr * f * u, sub)

    return {name: step(sub, factors.get(name, 1.0)) for name, sub in updates.items()}
