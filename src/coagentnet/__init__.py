"""coagentnet: neural networks whose hidden units are RL agents (coagent networks).

Reference: Gupta, Mihucz, Schlegel, Kostas, Thomas, White, "Structural Credit Assignment in
Neural Networks using Reinforcement Learning", NeurIPS 2021.

The public API (see :mod:`coagentnet.api` for a quick start):

- :class:`Config` (one run's settings, validated) and :class:`ConfigError`;
- :func:`train` (one config, one seed) and :func:`train_population` (many configs and seeds
  trained together, backprop pretraining included), returning :class:`RunResult`;
- :func:`load_dataset`, :func:`register_dataset` (your own arrays under your own name),
  :class:`Dataset`;
- :data:`RULES` (the one registry of learning rules), :func:`register_rule`,
  :class:`RuleTraits`, :class:`RuleEntry`, :class:`Rule`, :class:`Problem`;
- :func:`grid` (the product of config axes and seeds, for :func:`train_population`),
  :func:`frame` (many results as one long DataFrame);
- :func:`save` and :func:`load` (a trained network as a ``.npz`` file, no pickle);
- :func:`open_store`, :func:`runs_frame`, :func:`metrics_frame` (results stores as pandas),
  :func:`train_into_store` (runs recorded in a store, as ``train --store`` does);
- :func:`use_cpu_cores`: call it first in a notebook to split populations over every CPU
  core, as the ``coagentnet`` command does (JAX otherwise gives a process one CPU device).

Names load lazily, so ``import coagentnet`` does not import JAX.
"""

from importlib import import_module as _import_module

__version__ = "0.1.0"

#: Public name -> the module that defines it (imported on first use).
_EXPORTS = {
    "Config": "coagentnet.config",
    "ConfigError": "coagentnet.errors",
    "train": "coagentnet.training.run",
    "train_population": "coagentnet.training.run",
    "RunResult": "coagentnet.training.results",
    "load_dataset": "coagentnet.data",
    "register_dataset": "coagentnet.api",
    "Dataset": "coagentnet.data",
    "DataError": "coagentnet.errors",
    "RULES": "coagentnet.rules.registry",
    "register_rule": "coagentnet.api",
    "RuleTraits": "coagentnet.rules.registry",
    "RuleEntry": "coagentnet.rules.registry",
    "Rule": "coagentnet.rules.base",
    "Problem": "coagentnet.rules.base",
    "use_cpu_cores": "coagentnet.training.devices",
    "open_store": "coagentnet.api",
    "runs_frame": "coagentnet.api",
    "metrics_frame": "coagentnet.api",
    "grid": "coagentnet.api",
    "frame": "coagentnet.api",
    "train_into_store": "coagentnet.api",
    "save": "coagentnet.api",
    "load": "coagentnet.api",
}
#: Public names spelled differently in their module.
_RENAMED = {"train_population": "run_population"}

#: The public API, sorted; ``dir(coagentnet)`` lists these (and dunder names) and nothing else.
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'coagentnet' has no attribute {name!r}")
    value = getattr(_import_module(_EXPORTS[name]), _RENAMED.get(name, name))
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The public names and the module's dunders: not its private helpers, and not the
    subpackages (``coagentnet.training`` and others) that imports bind here as a side effect."""
    return sorted({n for n in globals() if n.startswith("__")} | set(__all__))
