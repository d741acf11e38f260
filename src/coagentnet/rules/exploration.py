"""Exploration subsets: in training only k units per layer sample (Gupta et al. 2021).

The other U - k units take their greedy action and get no policy-gradient term (their
log-probability is multiplied by zero in the surrogate), so only the exploring units learn
from the reward. The subset of each layer is drawn uniformly among the (U choose k) subsets,
independently per layer, and shared by the B episodes of a batch; it is redrawn every batch
(update) or every epoch. k = U is plain REINFORCE (or the plain critic rule). The paper's study
varies k in {1, 2, 4, ..., 64} (Gupta et al. 2021).

This module also combines exploration subsets with staged training (:mod:`coagentnet.rules.staged`)
into the per-layer sampling masks a training rollout uses.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from coagentnet.rules import staged

#: Folded into a key to draw subsets, so that drawing them never changes the rollout's key
#: (hence k = U reproduces the plain rule bit for bit).
SUBSET_SALT = 0x5EB5E7


def subset_masks(key: jax.Array, layers: int, units: int, k: int) -> jax.Array:
    """``[L, U]`` booleans with exactly ``k`` True per layer, uniformly at random."""
    u = jax.random.uniform(key, (layers, units))
    rank = jnp.argsort(jnp.argsort(u, axis=-1), axis=-1)  # a uniform random permutation
    return rank < k


def init_state(cfg, key: jax.Array) -> dict:
    """Rule state for per-epoch subsets: the member's own subset key (empty otherwise)."""
    if cfg.explore_units and cfg.explore_resample == "epoch":
        return {"explore": jax.random.fold_in(key, SUBSET_SALT)}
    return {}


def _subset_key(cfg, rule_state: dict, key: jax.Array, epoch) -> jax.Array:
    if cfg.explore_resample == "epoch":
        return jax.random.fold_in(rule_state["explore"], epoch)
    return jax.random.fold_in(key, SUBSET_SALT)


def training_masks(cfg, rule_state: dict, key: jax.Array, epoch) -> tuple | None:
    """Per-layer ``[U]`` masks of the units that sample in this update, or None (all do).

    ``key`` is the update's rollout key; ``epoch`` may be traced. A unit samples if it is in
    its layer's exploration subset and its layer is not frozen by staged training.
    """
    if not cfg.explore_units and not cfg.staged:
        return None
    mask = jnp.ones((cfg.layers, cfg.units), bool)
    if cfg.explore_units:
        mask = subset_masks(
            _subset_key(cfg, rule_state, key, epoch), cfg.layers, cfg.units, cfg.explore_units
        )
    if cfg.staged:
        mask = mask & ~staged.frozen_layers(epoch, cfg.layers, cfg.epochs)[:, None]
    return tuple(mask)


def evaluation_masks(cfg, key: jax.Array) -> tuple | None:
    """Masks of a *sampled* evaluation: a fresh subset per evaluation batch (None: all)."""
    if not cfg.explore_units:
        return None
    key = jax.random.fold_in(key, SUBSET_SALT)
    return tuple(subset_masks(key, cfg.layers, cfg.units, cfg.explore_units))
