"""Spreading a population over the available devices: every CPU core, or every GPU.

Members of a population are independent, so the population axis can be split across devices
with no communication at all. On a CPU, XLA runs one device's program on (mostly) one thread,
so a population on one device leaves the other cores idle; asking JAX for one CPU device per
core (:func:`use_cpu_cores`, done by the ``coagentnet`` command line) and sharding the
population over them (:func:`population_layout`) keeps every core busy. On a machine with
several GPUs the same layout splits the population over the GPUs; with one device everything
below is a no-op.

Members are not ``vmap``ped: each device runs its members through one compiled per-member
program, a tile of ``tile`` members at a time (:meth:`Layout.map_members`). Why: a vmapped
matrix product or reduction is a different XLA kernel for every population size (P becomes a
batch dimension or is folded into a GEMM's columns, which changes its blocking and so the
order of its sums), and a last-bit difference in a logit next to its uniform draw flips a
sampled unit, which training then amplifies. A per-member program has the same shapes, hence
the same kernels, whatever P, the member's position or the device count: every member's
numbers are bitwise those of a solo run. ``tile`` is 1 by default, on every platform (the cost
on a CPU is in docs/PERFORMANCE.md). Tiles of T > 1 members, vmapped within a tile, are faster
for tiny networks but are not invariant: on a CPU a member's numbers then depend on its
tile-mates (seen at T = 4), which is why they are only an opt-in (``$COAGENTNET_MEMBER_TILE``,
``coagentnet bench --member-tile``). On a GPU, where one member per kernel leaves the device
mostly idle, the trade-off has not been measured yet.

A population whose size P is not a multiple of ``shards * tile`` is padded with copies of its
last member; the copies' results are ignored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

#: Environment variable overriding the members per vmapped step (see the module docstring;
#: 0 vmaps a device's whole population at once).
MEMBER_TILE_ENV = "COAGENTNET_MEMBER_TILE"

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
    """Where the P members of a population live: ``padded`` rows split over ``shards`` devices,
    run ``tile`` members at a time.

    ``sharded``/``replicated`` are ``None`` on a single device, where nothing moves.
    """

    size: int
    padded: int
    shards: int
    sharded: NamedSharding | None = None
    replicated: NamedSharding | None = None
    tile: int = 1

    def map_members(self, fn, in_axes: tuple):
        """``fn`` applied member by member, with :func:`jax.vmap`'s calling convention.

        Arguments whose ``in_axes`` entry is 0 carry a leading member axis (``padded`` rows);
        those with ``None`` are shared by every member. Each device loops over its own members
        (``lax.map``, a tile at a time), so the compiled per-member program, and so every
        member's arithmetic, does not depend on P. Outputs have the leading member axis.
        """

        def local(*args):
            batched = tuple(a for a, axis in zip(args, in_axes, strict=True) if axis == 0)

            def one(members):
                it = iter(members)
                pairs = zip(args, in_axes, strict=True)
                return fn(*[next(it) if axis == 0 else a for a, axis in pairs])

            return jax.lax.map(one, batched, batch_size=self.tile if self.tile > 1 else None)

        if self.sharded is None:
            return local
        member, shared = PartitionSpec("population"), PartitionSpec()
        return jax.shard_map(
            local,
            mesh=self.sharded.mesh,
            in_specs=tuple(member if axis == 0 else shared for axis in in_axes),
            out_specs=member,
            check_vma=False,  # the per-member code never communicates across devices
        )

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


def member_tile() -> int:
    """Members per vmapped step: ``$COAGENTNET_MEMBER_TILE``, else 1 (bitwise invariant)."""
    text = os.environ.get(MEMBER_TILE_ENV, "").strip()
    if not text:
        return 1
    if not text.isdigit():
        raise ValueError(f"{MEMBER_TILE_ENV}: expected an integer >= 0, got {text!r}")
    return int(text)


def population_layout(size: int, devices: list | None = None, tile: int | None = None) -> Layout:
    """The layout of a population of ``size`` members over ``devices`` (default: JAX's).

    Uses ``min(size, len(devices))`` devices, so a single network stays on one device.
    ``tile``: members per vmapped step (default :func:`member_tile`);
    0 vmaps all of a device's members in one step, the formulation that is *not* bitwise
    invariant (kept for ``coagentnet bench --member-tile 0``, which measures what invariance
    costs).
    """
    devices = list(jax.devices() if devices is None else devices)
    tile = member_tile() if tile is None else tile
    shards = max(1, min(size, len(devices)))
    tile = tile or -(-size // shards)
    padded = -(-size // (shards * tile)) * shards * tile
    if shards == 1:
        if padded == size:
            return Layout(size, size, 1, tile=tile)
        devices = devices[:1]  # a single device that still needs padding to whole tiles
    mesh = Mesh(np.array(devices[:shards]), ("population",))
    return Layout(
        size,
        padded,
        shards,
        NamedSharding(mesh, PartitionSpec("population")),
        NamedSharding(mesh, PartitionSpec()),
        tile,
    )
