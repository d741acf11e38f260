"""Spreading a population over the available devices: every CPU core, or every GPU.

Members of a population are independent, so the population axis can be split across devices
with no communication at all. On a CPU, XLA runs one device's program on (mostly) one thread,
so a population on one device leaves the other cores idle; asking JAX for one CPU device per
core (:func:`use_cpu_cores`, done by the ``coagentnet`` command line) and sharding the
population over them (:func:`population_layout`) keeps every core busy. On a machine with
several GPUs the same layout splits the population over the GPUs; with one device everything
below is a no-op.

A population whose size P is not a multiple of the number of shards is padded with copies of
its last member; the copies' results are ignored. Each member's numbers are those it would
have alone (up to float rounding: per-device shapes can change a matrix product's blocking).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

#: Environment variable overriding how many CPU devices :func:`use_cpu_cores` asks for
#: (``1`` keeps JAX's single CPU device).
CPU_DEVICES_ENV = "COAGENTNET_CPU_DEVICES"


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def use_cpu_cores(count: int | None = None) -> int:
    """Ask JAX for ``count`` CPU devices (default: ``$COAGENTNET_CPU_DEVICES``, else one per
    usable core).

    Must run before JAX executes anything; afterwards JAX's device count is fixed and this
    returns 0 without changing anything. Returns the number of CPU devices requested.
    """
    if count is None:
        text = os.environ.get(CPU_DEVICES_ENV, "").strip()
        if text and not text.isdigit():  # a user error (one line from the CLI), not a traceback
            from coagentnet.config import ConfigError

            raise ConfigError(f"{CPU_DEVICES_ENV}: expected a whole number, got {text!r}")
        count = int(text or 0) or usable_cores()
    if count <= 1:
        return 0
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError:  # backends already initialised: leave them as they are
        return 0
    return count


@dataclass(frozen=True)
class Layout:
    """Where the P members of a population live: ``padded`` rows split over ``shards`` devices.

    ``sharded``/``replicated`` are ``None`` on a single device, where nothing moves.
    """

    size: int
    padded: int
    shards: int
    sharded: NamedSharding | None = None
    replicated: NamedSharding | None = None

    def place(self, tree):
        """Shard the leading (member) axis, first padding it to ``padded`` rows if it has
        ``size``. Also for state that is already padded: a jitted program's outputs that do
        not depend on its sharded inputs (zeros, constants) come back replicated, and a
        differently placed input would make the next call compile again."""
        if self.sharded is None:
            return tree

        def pad(x):
            x = jnp.asarray(x)
            if x.shape[0] == self.size < self.padded:
                x = jnp.concatenate([x, jnp.repeat(x[-1:], self.padded - self.size, axis=0)])
            return jax.device_put(x, self.sharded)

        return jax.tree.map(pad, tree)

    def unpad(self, tree):
        """The first ``size`` members (drops the padding copies)."""
        if self.padded == self.size:
            return tree
        return jax.tree.map(lambda x: x[: self.size], tree)

    def replicate(self, tree):
        """A copy of shared (unbatched) arrays, such as the data, on every shard's device."""
        if self.replicated is None:
            return tree
        return jax.device_put(tree, self.replicated)


def population_layout(size: int, devices: list | None = None) -> Layout:
    """The layout of a population of ``size`` members over ``devices`` (default: JAX's).

    Uses ``min(size, len(devices))`` devices, so a single network stays on one device.
    """
    devices = list(jax.devices() if devices is None else devices)
    shards = max(1, min(size, len(devices)))
    if shards == 1:
        return Layout(size, size, 1)
    padded = -(-size // shards) * shards
    mesh = Mesh(np.array(devices[:shards]), ("population",))
    return Layout(
        size,
        padded,
        shards,
        NamedSharding(mesh, PartitionSpec("population")),
        NamedSharding(mesh, PartitionSpec()),
    )
