"""Runs, their stable ids, and their grouping into populations that fit in memory.

A run is a (config, seed) pair. Its id is the first 16 hex digits of the SHA-256 of the
canonical JSON of the fully resolved config (every field, defaults included) and the seed, so
the same run has the same id in every sweep file that contains it, and a sweep that resumes
finds its finished runs by id.

A population is a group of runs that share ``Config.static_key()`` (one compiled program,
vmapped over members). Grouping never changes results (each member computes what it would
alone), so the planner is free to choose sizes: as large as the memory budget allows (fewer
compilations, more vectorisation), balanced (equal sizes compile once), and split further
when there are fewer populations than workers.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from dataclasses import dataclass

from coagentnet.config import Config
from coagentnet.model.units import units_from_config
from coagentnet.training.memory import member_bytes


@dataclass(frozen=True)
class Run:
    """One (config, seed) run and its stable id."""

    id: str
    config: Config
    seed: int


def canonical_json(config: Config) -> str:
    """The resolved config as JSON with sorted keys and no spaces (the hashed form)."""
    return json.dumps(config.to_dict(), sort_keys=True, separators=(",", ":"))


#: Config fields added after stores existed: at these defaults they are left out of the run
#: id, so that a store made before the field keeps its ids and resumes (its runs used them).
ADDED_AT_DEFAULT = {
    "input_range": "symmetric",
    "loo_samples": 4,
    "grad_diagnostics": 0,
    "critic_target": 0.0,
    "critic_input_norm": False,
}


def run_id(config: Config, seed: int) -> str:
    """16 hex digits of sha256(canonical JSON of {"config": ..., "seed": ...})."""
    fields = config.to_dict()
    for name, default in ADDED_AT_DEFAULT.items():
        if fields.get(name) == default:
            del fields[name]
    text = json.dumps({"config": fields, "seed": int(seed)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_run(config: Config, seed: int) -> Run:
    return Run(run_id(config, seed), config, int(seed))


@dataclass(frozen=True)
class Population:
    """Runs trained together by one vmapped program; all share ``static_key()``."""

    runs: tuple[Run, ...]

    @property
    def configs(self) -> list[Config]:
        return [r.config for r in self.runs]

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.runs]

    def __len__(self) -> int:
        return len(self.runs)


def default_memory_bytes() -> int:
    """Default budget for the populations that run at once.

    Half the accelerator's memory when JAX is already loaded here on a GPU/TPU (the local
    backend), else a quarter of this machine's physical memory. Populations sent to other
    machines (Ray) should be given ``--memory-mb``.
    """
    jax = sys.modules.get("jax")
    if jax is not None and jax.default_backend() != "cpu":
        stats = jax.devices()[0].memory_stats() or {}
        if stats.get("bytes_limit"):
            return int(stats["bytes_limit"]) // 2
    return physical_bytes() // 4


def physical_bytes() -> int:
    """This machine's memory in bytes (8 GiB if it cannot be read)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


#: Most hidden layers a network may have (the paper's deepest has 4).
MAX_LAYERS = 1000


def weight_bytes_lower_bound(config: Config) -> int:
    """At least what one member's hidden weights and their gradients take (float32)."""
    width = units_from_config(config).width(config.units)
    hidden = max(config.layers - 1, 0) * config.units * width
    return 2 * 4 * hidden


def check_fits(config: Config, memory_bytes: int | None = None) -> None:
    """Refuse, at once, a config whose single member exceeds the memory budget (default: this
    machine's memory; JAX is not asked, so a driver never initialises a GPU here): it would
    otherwise spend minutes allocating or compiling before failing (``units: 1000000000``,
    ``layers: 1000000``)."""
    from coagentnet.config import ConfigError

    budget = physical_bytes() if memory_bytes is None else memory_bytes
    if config.layers > MAX_LAYERS:  # tracing and compiling that many layers takes minutes
        raise ConfigError(
            f"units/layers: one network of {config.layers} x {config.units} units has more "
            f"than {MAX_LAYERS} layers, which this engine does not trace"
        )
    # Weights and their gradients alone, counted without tracing the initialiser: tracing a
    # million layers would itself take minutes.
    need = weight_bytes_lower_bound(config)
    if need <= budget:
        need = member_bytes(config)
    if need > budget:
        raise ConfigError(
            f"units/layers: one network of {config.layers} x {config.units} units needs about "
            f"{need / 2**20:,.0f} MiB, more than the {budget / 2**20:,.0f} MiB budget"
        )
    _check_extras(config, budget)


def _check_extras(config: Config, budget: int) -> None:
    """The memory knobs besides the network's size: leave-one-out samples, gradient
    diagnostics, the member tile (a population is padded to whole tiles) and the stream."""
    from coagentnet.config import ConfigError
    from coagentnet.config.limits import MAX_INT
    from coagentnet.training.devices import MEMBER_TILE_ENV, member_tile
    from coagentnet.training.memory import check_bytes

    if config.is_stream and config.num_means * config.batches_per_mean > MAX_INT:
        raise ConfigError(
            f"num_means/batches_per_mean: {config.num_means} x {config.batches_per_mean} "
            f"updates exceed {MAX_INT}"
        )
    need = check_bytes(config)
    if need > budget:
        knob = "loo_samples" if config.baseline == "loo" else "grad_diagnostics"
        raise ConfigError(
            f"{knob}: one network needs about {need / 2**20:,.0f} MiB with it, more than the "
            f"{budget / 2**20:,.0f} MiB budget"
        )
    try:
        tile = member_tile()
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if tile > 1 and tile * member_bytes(config) > budget:
        raise ConfigError(
            f"{MEMBER_TILE_ENV}: {tile} members per step (populations are padded to whole "
            f"tiles) need about {tile * member_bytes(config) / 2**20:,.0f} MiB, more than the "
            f"{budget / 2**20:,.0f} MiB budget"
        )


def check_configs(configs: list[Config], memory_bytes: int | None = None) -> None:
    """What can only be checked with the data or the memory estimate, done once per distinct
    setting before any work (``train`` and ``sweep`` call it before a progress bar or a store
    exists): the data loads (a missing ``data_dir``, a truncated IDX file), each batch fits in
    the training set, and one network fits in memory.

    Raises:
      ConfigError, DataError: one line naming the field.
    """
    from coagentnet.config import ConfigError
    from coagentnet.training.data_cache import config_data

    largest: dict[tuple, Config] = {}  # per data set: the config with the largest batch
    for config in {c.static_key(): c for c in configs}.values():
        check_fits(config, memory_bytes)
        if not config.is_stream:
            key = (config.dataset, config.data_dir, config.split_seed, config.normalize)
            if key not in largest or config.batch_size > largest[key].batch_size:
                largest[key] = config
    for config in largest.values():
        n = len(config_data(config).x_train)  # the load training reuses (cached)
        if config.batch_size > n:
            raise ConfigError(
                f"batch_size: {config.batch_size} exceeds the {config.dataset} training set "
                f"({n} examples)"
            )


def plan(
    runs: list[Run] | tuple[Run, ...],
    *,
    max_population: int | None = None,
    memory_bytes: int | None = None,
    workers: int = 1,
) -> list[Population]:
    """Group runs into populations, in the order their first run appears.

    Args:
      runs: the runs to do, in sweep order.
      max_population: hard cap on members per population (1 = every run alone).
      memory_bytes: budget for one population; default :func:`default_memory_bytes` divided
        by ``workers`` (they run at once).
      workers: populations that run at the same time; groups are split further, while they
        can be, until there are at least this many populations.

    Returns:
      Populations whose runs share ``static_key()``; sizes within a group differ by at most 1.
    """
    if memory_bytes is None:
        memory_bytes = default_memory_bytes() // max(1, workers)
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.config.static_key(), []).append(run)
    members = list(groups.values())
    caps = []
    for group in members:
        cap = max(1, memory_bytes // max(1, member_bytes(group[0].config)))
        if max_population is not None:
            cap = min(cap, max_population)
        caps.append(cap)
    chunks = [math.ceil(len(g) / cap) for g, cap in zip(members, caps, strict=True)]
    # More populations than workers keeps every worker busy; split the largest chunks first.
    while sum(chunks) < workers:
        sizes = [len(g) / k if k < len(g) else 0 for g, k in zip(members, chunks, strict=True)]
        best = max(range(len(members)), key=sizes.__getitem__, default=None)
        if best is None or sizes[best] == 0:
            break
        chunks[best] += 1
    out = []
    for group, k in zip(members, chunks, strict=True):
        # k balanced chunks: sizes differ by at most one, so at most two compilations.
        size, extra = divmod(len(group), k)
        start = 0
        for i in range(k):
            stop = start + size + (1 if i < extra else 0)
            out.append(Population(tuple(group[start:stop])))
            start = stop
    index = {run.id: i for i, run in enumerate(runs)}
    out.sort(key=lambda p: index[p.runs[0].id])
    return out


__all__ = [
    "Run",
    "Population",
    "canonical_json",
    "run_id",
    "make_run",
    "default_memory_bytes",
    "plan",
]
