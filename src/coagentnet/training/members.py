"""Setting up a population: per-member random keys, hyperparameter arrays and device layout.

The one place that turns ``(configs, seeds)`` into the arrays the compiled programs take, so
that training, the benchmark and the tests build populations alike (and a member's numbers
depend on its own config and seed only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp

from coagentnet.config import POPULATION_SCALARS, Config
from coagentnet.training.devices import Layout, population_layout


def member_keys(seed: int) -> dict:
    """One member's keys, each ``[2]``: ``init``, ``data``, ``train`` and ``eval``, split from
    ``PRNGKey(seed)`` (so a member's randomness is a function of its seed alone)."""
    init, data, train, evaluate = jax.random.split(jax.random.PRNGKey(seed), 4)
    return {"init": init, "data": data, "train": train, "eval": evaluate}


def stack(trees: Sequence) -> object:
    """Stack equally shaped pytrees along a new leading (member) axis."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


class PopulationSetup(NamedTuple):
    """``hyper``: scalar name -> ``[P']``; ``keys``: :func:`member_keys` stacked to ``[P', 2]``;
    both already placed by ``layout`` (P' = ``layout.padded`` rows on a multi-device layout)."""

    hyper: dict
    keys: dict
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
