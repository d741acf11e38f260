"""Run configuration: one frozen, validated dataclass per run, and what is asked about it.

The public names of run configuration, gathered from the modules that hold them:
:mod:`coagentnet.run_config` (the :class:`Config` dataclass and its validation),
:mod:`coagentnet.config_choices` (the values choice fields allow, the named groups of fields)
and :mod:`coagentnet.config_fields` (field help, varying fields, critic options).
"""

from __future__ import annotations

from coagentnet.config_choices import (  # noqa: F401 (re-exported)
    ACTIVATIONS,
    ACTOR_SIGNALS,
    BACKPROP_ACTIVATIONS,
    CRITIC_OPTIONS,
    EVAL_MODES,
    FILE_DATASETS,
    GAUSSIAN_ACTIVATIONS,
    OPTIMIZERS,
    POPULATION_SCALARS,
    STREAM,
    VALUE_MAPS,
)
from coagentnet.config_fields import check_critic_options, field_docs, varying_fields
from coagentnet.errors import ConfigError
from coagentnet.run_config import Config, accepts, field_kinds, validate

__all__ = [
    "Config",
    "ConfigError",
    "accepts",
    "check_critic_options",
    "field_docs",
    "field_kinds",
    "validate",
    "varying_fields",
]
