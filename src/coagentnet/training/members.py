"""What a member of a population is, and setting a population up.

:class:`MemberKeys` and :class:`MemberState` are the typed pytrees the compiled programs take
and return (a leading member axis in a population); :func:`population_setup` is the one place
that turns ``(configs, seeds)`` into those arrays, so that training, the benchmark and the
tests build populations alike (and a member's numbers depend on its own config and seed only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from coagentnet.config import POPULATION_SCALARS, Config
from coagentnet.training.devices import Layout, population_layout


class MemberKeys(NamedTuple):
    """One member's random keys, each ``[2]`` (``[P, 2]`` in a population), split from
    ``PRNGKey(seed)`` by :func:`member_keys`: a member's randomness is a function of its seed."""

    init: jax.Array
    """Initial parameters and rule state."""
    data: jax.Array
    """The data source: example order, or the stream's draws."""
    train: jax.Array
    """Sampling during updates, folded with the update's step."""
    eval: jax.Array
    """Sampling during evaluations, folded with the evaluation's chunk."""


def member_keys(seed: int) -> MemberKeys:
    """The keys of the member with seed ``seed``."""
    return MemberKeys(*jax.random.split(jax.random.PRNGKey(seed), 4))


class MemberState(NamedTuple):
    """What one member carries from update to update (a leading member axis in a population)."""

    params: Any
    """The rule's trainable parameters (``rule.init``'s first output: network, critics...)."""
    rule_state: Any
    """The rule's state that is not trained by gradient (e.g. the ema baseline)."""
    opt_state: Any
    """The optimiser's state for ``params``."""
    source: Any
    """The data source's state (e.g. the position in the stream)."""
    diverged: jax.Array
    """``[]`` bool: a loss or parameter became non-finite; the member is frozen from then on."""


def stack(trees: Sequence) -> object:
    """Stack equally shaped pytrees along a new leading (member) axis."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


class PopulationSetup(NamedTuple):
    """``hyper``: scalar name -> ``[P']``; ``keys``: :class:`MemberKeys` stacked to ``[P', 2]``;
    both already placed by ``layout`` (P' = ``layout.padded`` rows on a multi-device layout)."""

    hyper: dict
    keys: MemberKeys
    layout: Layout


def population_setup(
    configs: Sequence[Config],
    seeds: Sequence[int],
    devices: list | None = None,
    tile: int | None = None,
) -> PopulationSetup:
    """The keys, hyperparameter arrays and device layout of members ``(configs[i], seeds[i])``.

    ``devices`` defaults to JAX's and ``tile`` (members per vmapped step) to the engine's (see
    :func:`~coagentnet.training.devices.population_layout`).
    """
    hyper = {k: jnp.asarray([float(getattr(c, k)) for c in configs]) for k in POPULATION_SCALARS}
    keys = stack([member_keys(int(s)) for s in seeds])
    # Members split over the devices (every CPU core, or every GPU); padding rows come last.
    layout = population_layout(len(configs), devices, tile)
    return PopulationSetup(layout.place(hyper), layout.place(keys), layout)
