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

import difflib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from coagentnet.config import Config, ConfigError, accepts, check_critic_options, field_kinds
from coagentnet.option_needs import check_unused_options
from coagentnet.sweeps.plan import Run, make_run
from coagentnet.sweeps.yaml_loader import MAX_BYTES, SweepLoader, read_text
from coagentnet.sweeps.yaml_loader import show as _show
from coagentnet.validate import MAX_RUNS, MAX_SEED

TOP_KEYS = ("name", "description", "base", "grid", "seeds", "population", "presets")
PRESET_KEYS = ("description", "base", "grid", "seeds", "population")
POPULATION_KEYS = ("max_size", "memory_mb")
_FIELDS = field_kinds()


class SweepError(ConfigError):
    """A bad sweep file; the message is one line naming the key path."""


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
    presets = _mapping(data.get("presets") or {}, "presets")
    if preset not in presets:
        have = ", ".join(presets) or "none"
        raise SweepError(f"presets: no preset {preset!r} in this file (it has: {have})")
    where = f"presets.{preset}"
    over = _mapping({} if presets[preset] is None else presets[preset], where)
    for key in over:
        if key not in PRESET_KEYS:
            raise SweepError(_unknown(f"{where}.{key}", key, PRESET_KEYS))
    out = {k: v for k, v in data.items() if k != "presets"}
    if "base" in over:
        base = _mapping(data.get("base") or {}, "base")
        out["base"] = {**base, **_mapping(over["base"], f"{where}.base")}
    for key in ("seeds", "population"):
        if key in over:
            out[key] = over[key]
    if "grid" in over and isinstance(over["grid"], list):
        out["grid"] = over["grid"]  # checked with the rest of the file by parse()
    elif "grid" in over:
        axes = _mapping(over["grid"], f"{where}.grid")
        grid = data.get("grid")
        grids = [] if grid is None else [grid] if isinstance(grid, dict) else list(grid)
        grids = [dict(_mapping(g, "grid")) for g in grids]
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
        for name in preset_names(data) or _mapping(data["presets"], "presets"):
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
            raise SweepError(_unknown(str(key), str(key), TOP_KEYS))
    name = data.get("name", default_name)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise SweepError(f"name: expected a word of letters, digits, '_', '.', '-', got {name!r}")
    if not isinstance(data.get("description", ""), str):
        raise SweepError(f"description: expected str, got {_show(data['description'])}")
    base = _mapping({} if data.get("base") is None else data["base"], "base")
    for key, value in base.items():
        base[key] = _check_value(key, value, f"base.{key}")
    grids = _grids(data.get("grid"))
    seeds = _seeds(data.get("seeds", 1))
    pop = data.get("population")
    max_size, memory_mb = _population({} if pop is None else pop)
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
        check_critic_options(config, set(values))
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


def _grids(grid: object) -> list[tuple[str, dict[str, list]]]:
    """``grid`` as a list of (key path, {field: [values]}) with every value type-checked."""
    if grid is None:
        return [("grid", {})]
    if isinstance(grid, dict):
        items = [("grid", grid)]
    elif isinstance(grid, list):
        if not grid:
            raise SweepError("grid: empty list of grids; omit 'grid' for a single grid point")
        items = [(f"grid[{i}]", g) for i, g in enumerate(grid)]
    else:
        raise SweepError(f"grid: expected a mapping or a list of mappings, got {_show(grid)}")
    out = []
    for path, axes in items:
        axes = _mapping(axes, path)
        checked = {}
        for key, values in axes.items():
            if key not in _FIELDS:
                raise SweepError(_unknown(f"{path}.{key}", key, tuple(_FIELDS), seed_hint=True))
            values = _axis(values, f"{path}.{key}")
            checked[key] = [
                _check_value(key, v, f"{path}.{key}[{i}]") for i, v in enumerate(values)
            ]
        out.append((path, checked))
    return out


def _axis(values: object, path: str) -> list:
    """One grid axis: a non-empty list, or ``{pow2: [lo, hi(, step)]}`` for 2^lo .. 2^hi."""
    if isinstance(values, dict):
        if set(values) != {"pow2"}:
            extra = sorted(set(map(str, values)) - {"pow2"})
            if not extra:  # {}
                raise SweepError(f"{path}: expected a list of values or {{pow2: [low, high]}}")
            raise SweepError(_unknown(f"{path}.{extra[0]}", extra[0], ("pow2",)))
        spec = values["pow2"]
        if not (isinstance(spec, list) and len(spec) in (2, 3)):
            raise SweepError(f"{path}.pow2: expected [low, high] or [low, high, step] exponents")
        for i, v in enumerate(spec):
            if isinstance(v, bool) or not isinstance(v, int):
                raise SweepError(f"{path}.pow2[{i}]: expected int exponent, got {_show(v)}")
        lo, hi, step = (*spec, 1) if len(spec) == 2 else spec
        for i, e in enumerate((lo, hi)):
            if not -1074 <= e <= 1023:  # 2.0**e is a finite, non-zero float only in this range
                raise SweepError(f"{path}.pow2[{i}]: exponent must be in [-1074, 1023], got {e}")
        if step <= 0:
            raise SweepError(f"{path}.pow2[2]: step must be > 0, got {step}")
        values = [2.0**e for e in range(lo, hi + 1, step)]
        if not values:
            raise SweepError(f"{path}.pow2: empty range, low {lo} > high {hi}")
        return values
    if not isinstance(values, list):
        raise SweepError(f"{path}: expected a list of values (an axis), got {_show(values)}")
    if not values:
        raise SweepError(f"{path}: empty axis; give at least one value")
    return values


def _check_value(key: str, value: object, path: str) -> object:
    """Check one value against the Config field's declared type; ints widen to float."""
    if key not in _FIELDS:
        raise SweepError(_unknown(path, key, tuple(_FIELDS), seed_hint=True))
    kind, optional = _FIELDS[key]
    if value is None and optional:
        return None
    if not accepts(kind, value):
        hint = (
            " (lists of values go under 'grid')"
            if path.startswith("base") and isinstance(value, list)
            else ""
        )
        raise SweepError(f"{path}: expected {kind}, got {_show(value)}{hint}")
    # 1 and 1.0 must give the same config (and so the same run id).
    return float(value) if kind == "float" else value


def _seeds(seeds: object) -> list[int]:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise SweepError(f"seeds: need at least 1 seed, got {seeds}")
        if seeds > MAX_RUNS:  # before the list is built
            raise SweepError(f"seeds: {seeds:,} seeds exceed the limit of {MAX_RUNS:,} runs")
        return list(range(seeds))
    if not isinstance(seeds, list):
        raise SweepError(f"seeds: expected a count or a list of ints, got {_show(seeds)}")
    if not seeds:
        raise SweepError("seeds: empty list; give at least one seed")
    for i, s in enumerate(seeds):
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED:
            raise SweepError(f"seeds[{i}]: expected an int in [0, {MAX_SEED}], got {_show(s)}")
    if len(set(seeds)) != len(seeds):
        dup = next(s for s in seeds if seeds.count(s) > 1)
        raise SweepError(f"seeds: seed {dup} is listed twice")
    return list(seeds)


def _population(pop: object) -> tuple[int | None, float | None]:
    pop = _mapping(pop, "population")
    for key in pop:
        if key not in POPULATION_KEYS:
            raise SweepError(_unknown(f"population.{key}", key, POPULATION_KEYS))
    size, mem = pop.get("max_size"), pop.get("memory_mb")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise SweepError(f"population.max_size: expected an int >= 1, got {_show(size)}")
    if mem is not None and (
        isinstance(mem, bool) or not isinstance(mem, int | float) or not 0 < mem < float("inf")
    ):  # "not 0 < mem" also refuses nan
        raise SweepError(f"population.memory_mb: expected a finite number > 0, got {_show(mem)}")
    return size, (float(mem) if mem is not None else None)


def _mapping(value: object, path: str) -> dict:
    if not isinstance(value, dict):
        raise SweepError(f"{path}: expected a mapping, got {_show(value)}")
    for key in value:
        if not isinstance(key, str):
            raise SweepError(f"{path}: keys must be strings, got {_show(key)}")
    return dict(value)


def _unknown(path: str, key: str, allowed: tuple, seed_hint: bool = False) -> str:
    if seed_hint and key in ("seed", "seeds"):
        return f"{path}: unknown key; seeds are given by the top-level 'seeds' entry"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    elif len(allowed) > 8:
        hint = " (not a config field)"
    else:
        hint = f"; allowed: {', '.join(allowed)}"
    return f"{path}: unknown key{hint}"


__all__ = ["Sweep", "SweepError", "load", "parse", "read", "apply_preset", "preset_names"]
