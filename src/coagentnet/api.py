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
    from coagentnet.analysis.frames import load

    return load(store, ids).runs


def metrics_frame(store, ids: Sequence[str] | None = None):
    """Every metric of the complete runs of a store in long format: ``run, step, split,
    metric, layer, value`` (join with :func:`runs_frame` on ``run``)."""
    from coagentnet.analysis.frames import load

    return load(store, ids).metrics
