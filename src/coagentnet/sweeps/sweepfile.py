"""Sweep files: a base config plus grid axes and seeds, checked before anything runs.

A sweep file is YAML::

    name: digits_lr                 # optional; default: the file's stem
    description: free text          # optional, ignored
    base:                           # Config fields shared by every run
      dataset: digits
      units: 8
      epochs: 2
    grid:                           # axes: the runs are their Cartesian product
      rule: [reinforce, backprop]
      lr: {pow2: [-12, -8]}         # 2^-12, 2^-11, ..., 2^-8 (optional third item: step)
    seeds: 3                        # seeds 0, 1, 2; or an explicit list [0, 7, 9]
    population:                     # optional limits for the planner (CLI flags override)
      max_size: 64
      memory_mb: 2048

A file may also carry named presets (``coagentnet reproduce`` uses ``quick`` and ``paper``)::

    presets:
      quick:
        description: what it runs and on which data
      paper:                        # overrides applied on top of the file
        base: {dataset: mnist, epochs: 50}    # merged into base
        grid: {lr: {pow2: [-14, -6]}}         # replaces that axis in every grid that has it
        seeds: 9                              # replaces seeds (and ``population`` likewise)

A preset's ``grid`` given as a list replaces the file's whole grid (for per-rule grids that a
one-axis override cannot express).

Without a preset the presets are ignored and the file runs as written (so the top level is
best written as the cheap setting); with one, the sweep's name gains ``-<preset>``.

``grid`` may also be a list of such mappings: the sweep is then the union of their products
(as scikit-learn's ParameterGrid), which is how combinations that do not go together (a
baseline for backprop, critic options for reinforce) are kept apart. A missing or empty
mapping means a single grid point.

Every value is type-checked against :class:`~coagentnet.config.Config` before any config is
built, and every expanded config is then validated, so a bad file fails as one
:class:`SweepError` line naming the key path (``grid.lr[2]: expected float, got str 'abc'``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from coagentnet.config import Config, ConfigError, check_rule_options
from coagentnet.config.limits import MAX_RUNS
from coagentnet.config.option_use import check_unused_options
from coagentnet.sweeps.plan import Run, make_run
from coagentnet.sweeps.sweep_values import (
    SweepError,
    check_value,
    mapping,
    population_limits,
    seed_list,
    unknown_key,
)
from coagentnet.sweeps.sweep_values import (
    grids as parse_grids,
)
from coagentnet.sweeps.yaml_loader import MAX_BYTES, SweepLoader, read_text
from coagentnet.sweeps.yaml_loader import show as _show

TOP_KEYS = ("name", "description", "base", "grid", "seeds", "population", "presets")
PRESET_KEYS = ("description", "base", "grid", "seeds", "population")


@dataclass(frozen=True)
class Sweep:
    """An expanded sweep: runs in file order (duplicates merged) and planner limits."""

    name: str
    runs: tuple[Run, ...]
    max_population: int | None = None
    memory_mb: float | None = None
    duplicates: int = 0
    """Grid points that resolved to a run already in the sweep (merged, not run twice)."""


def load(path: str | Path, preset: str | None = None) -> Sweep:
    """Read, check and expand a sweep file (with ``preset`` applied, if given); raise
    :class:`SweepError` (one line) if bad. Without a ``name:`` key the sweep is named after
    the file's stem, with each run of other characters than letters, digits, '_', '.', '-'
    made one '_' (an explicit ``name:`` must already be such a word)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(path).stem).strip("_") or "sweep"
    return parse(read(path), default_name=stem, preset=preset)


def read(path: str | Path) -> object:
    """The parsed YAML of a sweep file, unchecked; unreadable or invalid YAML is a
    :class:`SweepError`."""
    path = Path(path)
    try:
        text = read_text(path, MAX_BYTES).decode("utf-8")
    except OSError as err:
        raise SweepError(f"{path}: cannot read sweep file ({err.strerror or err})") from None
    except UnicodeDecodeError as err:  # a PNG, a binary
        raise SweepError(f"{path}: not a text (YAML) file (byte {err.start})") from None
    except ValueError as err:  # not a regular file, or too large
        raise SweepError(f"{path}: {err}") from None
    try:
        data = yaml.load(text, Loader=SweepLoader)
    except RecursionError:
        raise SweepError(f"{path}: invalid YAML: nested too deeply") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SweepError(f"{path}:{where} invalid YAML: {problem}") from None
    return data


def preset_names(data: object) -> tuple[str, ...]:
    """The presets a parsed sweep file defines, in file order (empty if none)."""
    presets = data.get("presets") if isinstance(data, dict) else None
    return tuple(presets) if isinstance(presets, dict) else ()


def apply_preset(data: dict, preset: str) -> dict:
    """A copy of a parsed sweep file with one preset's overrides applied (see the module
    docstring) and the ``presets`` block removed."""
    presets = mapping(data.get("presets") or {}, "presets")
    if preset not in presets:
        have = ", ".join(presets) or "none"
        raise SweepError(f"presets: no preset {preset!r} in this file (it has: {have})")
    where = f"presets.{preset}"
    over = mapping({} if presets[preset] is None else presets[preset], where)
    for key in over:
        if key not in PRESET_KEYS:
            raise SweepError(unknown_key(f"{where}.{key}", key, PRESET_KEYS))
    out = {k: v for k, v in data.items() if k != "presets"}
    if "base" in over:
        base = mapping(data.get("base") or {}, "base")
        out["base"] = {**base, **mapping(over["base"], f"{where}.base")}
    for key in ("seeds", "population"):
        if key in over:
            out[key] = over[key]
    if "grid" in over and isinstance(over["grid"], list):
        out["grid"] = over["grid"]  # checked with the rest of the file by parse()
    elif "grid" in over:
        axes = mapping(over["grid"], f"{where}.grid")
        grid = data.get("grid")
        grids = [] if grid is None else [grid] if isinstance(grid, dict) else list(grid)
        grids = [dict(mapping(g, "grid")) for g in grids]
        for axis, values in axes.items():
            hit = [g for g in grids if axis in g]
            if not hit:
                raise SweepError(f"{where}.grid.{axis}: no grid of this file has that axis")
            for g in hit:
                g[axis] = values
        out["grid"] = grids[0] if isinstance(grid, dict) else grids
    if isinstance(data.get("name"), str):
        out["name"] = f"{data['name']}-{preset}"  # a preset's store is not the plain file's
    return out


def parse(data: object, default_name: str = "sweep", preset: str | None = None) -> Sweep:
    """Check and expand an already-parsed sweep (a dict as YAML gives it), with ``preset``
    applied if given."""
    if not isinstance(data, dict):
        raise SweepError(f"sweep: expected a mapping at the top level, got {_show(data)}")
    if preset is not None:
        if "name" not in data:
            default_name = f"{default_name}-{preset}"
        data = apply_preset(data, preset)
    elif "presets" in data:
        for name in preset_names(data) or mapping(data["presets"], "presets"):
            # A bad preset is an error even when not chosen: check its keys and values (every
            # axis value once, without expanding its grid, which may be large).
            try:
                _check_sample(*_checked(apply_preset(data, name), default_name))
            except SweepError as err:
                raise SweepError(f"presets.{name}: {err}") from None
    name, base, grids, seeds, max_size, memory_mb = _checked(data, default_name)

    runs: dict[str, Run] = {}
    points = 0
    for grid_path, axes in grids:
        names = list(axes)
        for combo in itertools.product(*(range(len(axes[n])) for n in names)):
            point = {n: axes[n][i] for n, i in zip(names, combo, strict=True)}
            where = {n: f"base.{n}" for n in base}
            where.update({n: f"{grid_path}.{n}[{i}]" for n, i in zip(names, combo, strict=True)})
            config = _build({**base, **point}, where)
            for seed in seeds:
                points += 1
                run = make_run(config, seed)
                runs.setdefault(run.id, run)
    given = {n: f"base.{n}" for n in base} | {n: f"{p}.{n}" for p, axes in grids for n in axes}
    check_unused_options([r.config for r in runs.values()], given)
    return Sweep(name, tuple(runs.values()), max_size, memory_mb, duplicates=points - len(runs))


def _checked(data: dict, default_name: str) -> tuple:
    """The checked parts of a sweep (preset applied): (name, base, grids, seeds, max_size,
    memory_mb); the number of runs is counted, not expanded, and refused above ``MAX_RUNS``."""
    for key in data:
        if key not in TOP_KEYS:
            raise SweepError(unknown_key(str(key), str(key), TOP_KEYS))
    name = data.get("name", default_name)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise SweepError(f"name: expected a word of letters, digits, '_', '.', '-', got {name!r}")
    if not isinstance(data.get("description", ""), str):
        raise SweepError(f"description: expected str, got {_show(data['description'])}")
    base = mapping({} if data.get("base") is None else data["base"], "base")
    for key, value in base.items():
        base[key] = check_value(key, value, f"base.{key}")
    grids = parse_grids(data.get("grid"))
    seeds = seed_list(data.get("seeds", 1))
    pop = data.get("population")
    max_size, memory_mb = population_limits({} if pop is None else pop)
    total = 0
    for _, axes in grids:
        points = len(seeds)
        for values in axes.values():
            points *= len(values)
        total += points
    if total > MAX_RUNS:
        raise SweepError(
            f"sweep: {total:,} runs (grid points x seeds) exceed the limit of {MAX_RUNS:,}; "
            "split the sweep into smaller files"
        )
    return name, base, grids, seeds, max_size, memory_mb


def _check_sample(name, base, grids, *_) -> None:
    """Build one config per axis value (the other axes at their first value): catches bad
    values without expanding a grid."""
    for grid_path, axes in grids:
        first = {n: v[0] for n, v in axes.items()}
        for axis, values in axes.items() or [(None, [None])]:
            for i, value in enumerate(values):
                point = first if axis is None else {**first, axis: value}
                where = {n: f"base.{n}" for n in base}
                where.update({n: f"{grid_path}.{n}[0]" for n in first})
                if axis is not None:
                    where[axis] = f"{grid_path}.{axis}[{i}]"
                _build({**base, **point}, where)


def _build(values: dict, where: dict[str, str]) -> Config:
    """Construct one Config; re-label its error with the key path the bad field came from."""
    try:
        config = Config(**values)
        check_rule_options(config, {name: name for name in values})
        return config
    except ConfigError as err:
        field, sep, rest = str(err).partition(":")
        point = ", ".join(f"{where[k]}={v!r}" for k, v in values.items() if where[k][:4] == "grid")
        if sep and field in where:
            if where[field][:4] == "grid" or not point:
                raise SweepError(f"{where[field]}:{rest}") from None
            # A base value that only some grid points reject: say which point.
            raise SweepError(f"{where[field]}:{rest} (at {point})") from None
        # The field kept its default: name the grid point that made it invalid.
        raise SweepError(f"{point or 'base'}: {err}") from None


__all__ = ["Sweep", "SweepError", "load", "parse", "read", "apply_preset", "preset_names"]
