"""The names of the unit types and baseline kinds, without importing JAX.

Config validation and the command line's parser need only the names; the constructors are in
:mod:`coagentnet.model.units` (``UNIT_TYPES``) and :mod:`coagentnet.model.baselines`
(``BASELINES``), which import JAX. Until those modules are imported nothing can have been
added to their dicts; afterwards :func:`unit_kinds` and :func:`baseline_kinds` read the dicts
themselves. A test keeps these tuples equal to those dicts' keys (and
:data:`DISCRETE_UNIT_KINDS` equal to the kinds whose units say ``is_discrete``).
"""

import sys

UNIT_KINDS: tuple[str, ...] = ("bernoulli", "bernoulli2", "categorical", "gaussian")
DISCRETE_UNIT_KINDS: tuple[str, ...] = ("bernoulli", "bernoulli2", "categorical")
BASELINE_KINDS: tuple[str, ...] = ("none", "ema", "state", "layer_state", "loo", "self_critical")


def unit_kinds() -> tuple[str, ...]:
    """The unit types known now: :data:`UNIT_KINDS`, or, once :mod:`coagentnet.model.units` is
    imported, its ``UNIT_TYPES`` keys (a unit type added there is accepted everywhere)."""
    units = sys.modules.get("coagentnet.model.units")
    return tuple(units.UNIT_TYPES) if units is not None else UNIT_KINDS


def baseline_kinds() -> tuple[str, ...]:
    """The baseline kinds known now (as :func:`unit_kinds`, from ``BASELINES``)."""
    baselines = sys.modules.get("coagentnet.model.baselines")
    return tuple(baselines.BASELINES) if baselines is not None else BASELINE_KINDS
