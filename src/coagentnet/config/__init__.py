"""Run configuration: one frozen, validated dataclass per run, and what is asked about it.

The package's modules, each with one job: :mod:`~coagentnet.config.schema` (the
:class:`Config` dataclass), :mod:`~coagentnet.config.checks` (its validation),
:mod:`~coagentnet.config.study_checks` (the further studies' options combined),
:mod:`~coagentnet.config.option_use` (options that only some rules or settings use),
:mod:`~coagentnet.config.choices` (the values choice fields allow),
:mod:`~coagentnet.config.limits` (seeds, integer fields, sweep size) and
:mod:`~coagentnet.config.describe` (field help, varying fields, run labels). What a rule
accepts is declared on its registry entry (:class:`~coagentnet.rules.registry.RuleTraits`).
"""

from __future__ import annotations

from coagentnet.config.checks import accepts, validate
from coagentnet.config.choices import (  # noqa: F401 (re-exported)
    ACTIVATIONS,
    ACTOR_SIGNALS,
    BACKPROP_ACTIVATIONS,
    EVAL_MODES,
    FILE_DATASETS,
    GAUSSIAN_ACTIVATIONS,
    OPTIMIZERS,
    POPULATION_SCALARS,
    STREAM,
    VALUE_MAPS,
)
from coagentnet.config.describe import field_docs, run_label, varying_fields
from coagentnet.config.option_use import check_rule_options
from coagentnet.config.schema import Config, field_kinds
from coagentnet.errors import ConfigError
from coagentnet.rules.registry import CRITIC_OPTIONS  # noqa: F401 (re-exported)

__all__ = [
    "Config",
    "ConfigError",
    "accepts",
    "check_rule_options",
    "field_docs",
    "field_kinds",
    "run_label",
    "validate",
    "varying_fields",
]
