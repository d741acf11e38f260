"""Checking the values of a sweep file, one key path at a time: grid axes (lists or
``{pow2: [lo, hi(, step)]}``), field values against :class:`~coagentnet.config.Config`'s types,
seeds and population limits. Every failure is one :class:`SweepError` line naming the key path.
"""

from __future__ import annotations

import difflib

from coagentnet.config import ConfigError, accepts, field_kinds
from coagentnet.config.limits import MAX_RUNS, MAX_SEED
from coagentnet.sweeps.yaml_loader import show as _show

POPULATION_KEYS = ("max_size", "memory_mb")
#: Config field -> (type kind, optional), the types every value is checked against.
FIELDS = field_kinds()


class SweepError(ConfigError):
    """A bad sweep file; the message is one line naming the key path."""


def grids(grid: object) -> list[tuple[str, dict[str, list]]]:
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
        axes = mapping(axes, path)
        checked = {}
        for key, values in axes.items():
            if key not in FIELDS:
                raise SweepError(unknown_key(f"{path}.{key}", key, tuple(FIELDS), seed_hint=True))
            values = axis(values, f"{path}.{key}")
            checked[key] = [check_value(key, v, f"{path}.{key}[{i}]") for i, v in enumerate(values)]
        out.append((path, checked))
    return out


def axis(values: object, path: str) -> list:
    """One grid axis: a non-empty list, or ``{pow2: [lo, hi(, step)]}`` for 2^lo .. 2^hi."""
    if isinstance(values, dict):
        if set(values) != {"pow2"}:
            extra = sorted(set(map(str, values)) - {"pow2"})
            if not extra:  # {}
                raise SweepError(f"{path}: expected a list of values or {{pow2: [low, high]}}")
            raise SweepError(unknown_key(f"{path}.{extra[0]}", extra[0], ("pow2",)))
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


def check_value(key: str, value: object, path: str) -> object:
    """Check one value against the Config field's declared type; ints widen to float."""
    if key not in FIELDS:
        raise SweepError(unknown_key(path, key, tuple(FIELDS), seed_hint=True))
    kind, optional = FIELDS[key]
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


def seed_list(seeds: object) -> list[int]:
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


def population_limits(pop: object) -> tuple[int | None, float | None]:
    pop = mapping(pop, "population")
    for key in pop:
        if key not in POPULATION_KEYS:
            raise SweepError(unknown_key(f"population.{key}", key, POPULATION_KEYS))
    size, mem = pop.get("max_size"), pop.get("memory_mb")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise SweepError(f"population.max_size: expected an int >= 1, got {_show(size)}")
    if mem is not None and (
        isinstance(mem, bool) or not isinstance(mem, int | float) or not 0 < mem < float("inf")
    ):  # "not 0 < mem" also refuses nan
        raise SweepError(f"population.memory_mb: expected a finite number > 0, got {_show(mem)}")
    return size, (float(mem) if mem is not None else None)


def mapping(value: object, path: str) -> dict:
    if not isinstance(value, dict):
        raise SweepError(f"{path}: expected a mapping, got {_show(value)}")
    for key in value:
        if not isinstance(key, str):
            raise SweepError(f"{path}: keys must be strings, got {_show(key)}")
    return dict(value)


def unknown_key(path: str, key: str, allowed: tuple, seed_hint: bool = False) -> str:
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


__all__ = [
    "FIELDS",
    "POPULATION_KEYS",
    "SweepError",
    "axis",
    "check_value",
    "grids",
    "mapping",
    "population_limits",
    "seed_list",
    "unknown_key",
]
