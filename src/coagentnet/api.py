"""The library's front door: what ``import coagentnet`` offers, importable one by one.

Every name here is re-exported lazily by :mod:`coagentnet` (``coagentnet.train`` ...), so
``import coagentnet`` stays cheap: JAX loads on the first training call, pandas on the first
frame.

Quick start::

    import coagentnet as cn

    cfg = cn.Config(dataset="digits", rule="reinforce", units=16, epochs=2)
    result = cn.train(cfg, seed=0)
    result.final["test/accuracy"]
    result.to_frame()                      # long metrics as a DataFrame

A rule of your own: ``cn.register_rule("my_rule", make, policy_gradient=True, baselines=None)``
with ``make(cfg, problem) -> Rule`` (:mod:`coagentnet.rules.base`); then
``cn.Config(rule="my_rule", baseline="ema")`` validates and trains like a built-in.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from coagentnet.training.results import metric_rows_frame

__all__ = [
    "drop_caches",
    "load",
    "save",
    "metric_rows_frame",
    "metrics_frame",
    "open_store",
    "register_dataset",
    "register_rule",
    "runs_frame",
]


def drop_caches() -> None:
    """Forget every cache that depends on a registered rule or data set: loaded data, compiled
    trainers, the diagnostics' compiled references and the mean-predictor levels. Modules not
    imported yet have nothing cached (and are not imported here, so JAX stays unloaded)."""
    loop = sys.modules.get("coagentnet.training.loop")
    if loop is not None:
        loop.drop_caches()
    data_cache = sys.modules.get("coagentnet.training.data_cache")
    if data_cache is not None:
        data_cache.drop_loaded_data()
    references = sys.modules.get("coagentnet.diagnostics.references")
    if references is not None:
        references.drop_compiled()
    levels = sys.modules.get("coagentnet.analysis.references")
    if levels is not None:
        levels.mean_predictor_mse.cache_clear()


def register_rule(entry, make=None, traits=None, *, replace: bool = False, **trait_values):
    """:func:`coagentnet.rules.registry.register_rule`, then, with ``replace=True``, drop every
    cache compiled for the old entry (:func:`drop_caches`): in a notebook, registering a rule
    again under its name and rerunning trains the new code."""
    from coagentnet.rules.registry import register_rule as register

    registered = register(entry, make, traits, replace=replace, **trait_values)
    if replace:
        drop_caches()
    return registered


def register_dataset(name, x, y, *, replace: bool = False, **kwargs) -> None:
    """:func:`coagentnet.data.register_dataset`, then, with ``replace=True``, drop every cache
    that holds the old arrays (:func:`drop_caches`)."""
    from coagentnet.data import register_dataset as register

    register(name, x, y, replace=replace, **kwargs)
    if replace:
        drop_caches()


def open_store(path: str | Path, *, readonly: bool = True):
    """Open a results store (the SQLite file of ``coagentnet sweep`` or ``train --store``).

    Read-only by default. Use it as a context manager; pass it to :func:`runs_frame` and
    :func:`metrics_frame`. Raises :class:`coagentnet.sweeps.store.StoreError` if the file is
    not a store, ``FileNotFoundError`` if it does not exist (read-only).
    """
    from coagentnet.sweeps.store import Store

    path = Path(path)
    if readonly and not path.exists():
        raise FileNotFoundError(f"no store at {path}")
    return Store(path, readonly=readonly)


def runs_frame(store, ids: Sequence[str] | None = None):
    """One row per complete run of a store (a :class:`Store` or a path): ``run`` id, ``seed``,
    ``status``, ``diverged``, timings, ``device``, ``versions`` and every config field."""
    from coagentnet.analysis.store_frames import load

    return load(store, ids).runs


def metrics_frame(store, ids: Sequence[str] | None = None):
    """Every metric of the complete runs of a store in long format: ``run, step, split,
    metric, layer, value`` (join with :func:`runs_frame` on ``run``)."""
    from coagentnet.analysis.store_frames import load

    return load(store, ids).metrics


def grid(cfg, *, seed: Sequence[int] = (0,), **axes) -> tuple[list, list[int]]:
    """Every combination of ``axes`` (config fields -> values) and ``seed``, as the two lists
    :func:`coagentnet.train_population` takes: ``train_population(*grid(cfg, lr=[a, b],
    seed=[0, 1]))`` trains 4 networks (a, 0), (a, 1), (b, 0), (b, 1) - the product, in the
    order the axes are given, seeds varying fastest. Each config is ``cfg.replace(...)``, so a
    bad field or value is a ``ConfigError`` here. A population shares its static shapes: grid
    over scalars such as ``lr`` (``coagentnet.config.POPULATION_SCALARS``); for architectures,
    train one population per grid point."""
    import dataclasses
    import itertools

    from coagentnet.errors import ConfigError

    seeds = [seed] if isinstance(seed, int) else list(seed)
    names = list(axes)
    unknown = set(names) - {f.name for f in dataclasses.fields(cfg)}
    if unknown:
        raise ConfigError(f"grid: {', '.join(sorted(unknown))}: not a Config field")
    configs, run_seeds = [], []
    for values in itertools.product(*(_values(name, axes[name]) for name in names)):
        point = cfg.replace(**dict(zip(names, values, strict=True)))
        configs += [point] * len(seeds)
        run_seeds += seeds
    return configs, run_seeds


def _values(name: str, values) -> list:
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise TypeError(f"grid axis {name}: give a list of values, got {values!r}")
    return list(values)


def frame(results, fields: Sequence[str] | None = None):
    """One long DataFrame for many runs (a list of :class:`RunResult`): ``run`` (the position
    in ``results``), the config ``fields`` (default: every field whose value differs between
    the runs, and ``rule``), ``seed``, ``diverged``, then each run's
    ``step, split, metric, layer, value``."""
    import dataclasses

    import pandas as pd

    results = list(results)
    if not results:
        raise ValueError("frame: no results")
    if fields is None:
        names = [f.name for f in dataclasses.fields(results[0].config)]
        varying = {n for n in names if len({repr(getattr(r.config, n)) for r in results}) > 1}
        fields = [n for n in names if n in varying or n == "rule"]
    parts = []
    for i, result in enumerate(results):
        part = metric_rows_frame(result.metrics)
        columns = {"run": i, **{n: getattr(result.config, n) for n in fields}}
        columns |= {"seed": result.seed, "diverged": result.diverged}
        for position, (name, value) in enumerate(columns.items()):
            part.insert(position, name, value)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def train_into_store(configs, seeds: Sequence[int], path: str | Path) -> list:
    """Train the (config, seed) runs of a grid into a results store at ``path`` (created if
    need be), as ``coagentnet train --store`` does: runs already there are skipped, the
    curves are kept, and ``status``, ``export``, ``report``, :func:`runs_frame` and
    :func:`metrics_frame` read it. ``configs[i]`` pairs with ``seeds[i]`` (see :func:`grid`).
    Returns each run's :class:`RunResult` (final values; the curves are in the store)."""
    from coagentnet.commands.train_store import train_into_store as train

    configs, seeds = list(configs), list(seeds)
    if len(configs) != len(seeds):
        raise ValueError(f"{len(configs)} configs but {len(seeds)} seeds; pair them with grid()")
    wanted: dict = {}
    for cfg, seed in zip(configs, seeds, strict=True):
        wanted.setdefault(cfg, []).append(seed)
    groups: dict = {}  # configs with the same seeds go in one call (one population if they can)
    for cfg, cfg_seeds in wanted.items():
        groups.setdefault(tuple(cfg_seeds), []).append(cfg)
    out = []
    for group_seeds, group in groups.items():
        by_config, failed = train(group, list(group_seeds), Path(path), progress=False)
        if failed:
            raise RuntimeError(f"{failed} runs failed; see the store's errors")
        out += [r for cfg in group for r in by_config.get(cfg, [])]
    return out


def save(result, path: str | Path) -> Path:
    """Save a trained network: its final parameters, config and seed, in one ``.npz`` file
    (NumPy arrays and the config as JSON; no pickle). ``result`` must carry its parameters:
    train with ``keep_params=True``. Written atomically. Returns the path."""
    from coagentnet.training.params_file import save_params

    if result.params is None:
        raise ValueError("save: the result has no parameters; train with keep_params=True")
    save_params(path, result)
    return Path(path)


def load(path: str | Path):
    """The network saved by :func:`save`: a :class:`RunResult` with ``config``, ``seed`` and
    ``params`` (bitwise the saved arrays; ``metrics`` and ``final`` empty)."""
    from coagentnet.config import Config
    from coagentnet.training.params_file import load_params
    from coagentnet.training.results import RunResult

    meta, params = load_params(path)
    return RunResult(Config(**meta["config"]), meta["seed"], False, params=params)
