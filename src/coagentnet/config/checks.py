"""The checks of a :class:`~coagentnet.config.Config`: each raises :class:`ConfigError` naming
the first bad field in one line. ``Config`` calls :func:`validate` on construction; what a rule
accepts (baselines, unit types, its own options) is read from its registry entry.
"""

from __future__ import annotations

import functools
import math
from dataclasses import fields

from coagentnet.config import study_checks
from coagentnet.config.choices import (
    ACTIVATIONS,
    ACTOR_SIGNALS,
    BACKPROP_ACTIVATIONS,
    EVAL_MODES,
    FILE_DATASETS,
    GAUSSIAN_ACTIVATIONS,
    OPTIMIZERS,
    STREAM,
    VALUE_MAPS,
)
from coagentnet.config.limits import MAX_INT, MAX_SEED
from coagentnet.data import INPUT_RANGES, dataset_names, input_range_problem
from coagentnet.errors import ConfigError
from coagentnet.model.kinds import baseline_kinds, unit_kinds
from coagentnet.rules import registry


def _choice(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}: unknown value {value!r}; allowed: {', '.join(allowed)}")


def _positive(name: str, value, strict: bool = True) -> None:
    if strict and not value > 0:
        raise ConfigError(f"{name}: must be > 0, got {value!r}")
    if not strict and not value >= 0:
        raise ConfigError(f"{name}: must be >= 0, got {value!r}")


@functools.cache  # read-only: every Config built checks its fields against it
def kinds_of(config_class: type) -> dict[str, tuple[str, bool]]:
    """Field name -> ``(kind, optional)`` of a config dataclass (see ``field_kinds``)."""
    out = {}
    for f in fields(config_class):
        kind, _, rest = str(f.type).partition(" | ")
        out[f.name] = (kind, rest == "None")
    return out


def accepts(kind: str, value: object) -> bool:
    """Whether ``value`` has field kind ``kind``: an int is a float, a bool is not a number
    (bool is an int subclass in Python)."""
    if isinstance(value, bool):
        return kind == "bool"
    return isinstance(value, {"int": int, "float": (int, float), "bool": bool, "str": str}[kind])


def _check_types(cfg) -> None:
    for name, (kind, optional) in kinds_of(type(cfg)).items():
        value = getattr(cfg, name)
        if value is None and optional:
            continue
        if not accepts(kind, value):
            raise ConfigError(f"{name}: expected {kind}, got {type(value).__name__} {value!r}")
        # inf passes every "> 0" test below and nan fails them obscurely: refuse both here.
        if kind == "float" and not math.isfinite(value):
            raise ConfigError(f"{name}: must be a finite number, got {value!r}")
        if kind == "int" and not -MAX_INT <= value <= MAX_INT:  # JAX shapes and counts: int32
            raise ConfigError(f"{name}: must be at most {MAX_INT}, got {value!r}")


def validate(cfg) -> None:
    """Raise :class:`ConfigError` naming the first bad field."""
    _check_types(cfg)
    _choice("dataset", cfg.dataset, dataset_names() + (STREAM,))
    if not 0 <= cfg.split_seed <= MAX_SEED:
        raise ConfigError(f"split_seed: must be in [0, {MAX_SEED}], got {cfg.split_seed!r}")
    if cfg.data_dir is not None and cfg.dataset not in FILE_DATASETS:
        raise ConfigError(
            f"data_dir: {cfg.dataset!r} is not read from files (only {', '.join(FILE_DATASETS)})"
        )
    _choice("rule", cfg.rule, registry.rule_names())
    _choice("unit_type", cfg.unit_type, unit_kinds())
    _choice("value_map", cfg.value_map, VALUE_MAPS)
    _choice("baseline", cfg.baseline, baseline_kinds())
    _choice("optimizer", cfg.optimizer, OPTIMIZERS)
    _choice("finetune_optimizer", cfg.finetune_optimizer, OPTIMIZERS)
    _choice("activation", cfg.activation, ACTIVATIONS)
    _choice("actor_signal", cfg.actor_signal, ACTOR_SIGNALS)
    _choice("eval_mode", cfg.eval_mode, EVAL_MODES)
    _choice("input_range", cfg.input_range, INPUT_RANGES)
    problem = input_range_problem(cfg.dataset, cfg.input_range)
    if problem:
        raise ConfigError(problem)
    for name in ("layers", "clip_norm", "warm_start_epochs"):
        _positive(name, getattr(cfg, name), strict=False)
    for name in ("units", "batch_size", "epochs", "critic_width", "critic_depth", "lr"):
        _positive(name, getattr(cfg, name))
    for name in ("unit_std", "critic_ratio", "num_means", "batches_per_mean", "num_evals"):
        _positive(name, getattr(cfg, name))
    if not 0.0 <= cfg.ema_decay < 1.0:
        raise ConfigError(f"ema_decay: must be in [0, 1), got {cfg.ema_decay!r}")
    for name in ("difficulty", "critic_target"):  # fractions
        if not 0.0 <= getattr(cfg, name) <= 1.0:
            raise ConfigError(f"{name}: must be in [0, 1], got {getattr(cfg, name)!r}")
    if cfg.is_stream:
        if cfg.epochs != 1:
            raise ConfigError(
                f"epochs: the {STREAM} stream is consumed once; set 1, got {cfg.epochs}"
            )
        updates = cfg.num_means * cfg.batches_per_mean
        if updates % cfg.num_evals:
            raise ConfigError(
                f"num_evals: must divide the stream's {updates} updates, got {cfg.num_evals}"
            )
    if cfg.num_actions < 2:
        raise ConfigError(f"num_actions: K must be >= 2, got {cfg.num_actions!r}")
    traits = registry.rule_entry(cfg.rule).traits
    if traits.deterministic_hidden and cfg.activation not in BACKPROP_ACTIVATIONS:
        raise ConfigError(
            f"activation: {cfg.rule} allows {', '.join(BACKPROP_ACTIVATIONS)}, "
            f"got {cfg.activation!r}"
        )
    if not traits.deterministic_hidden and cfg.unit_type == "gaussian":
        if cfg.activation not in GAUSSIAN_ACTIVATIONS:
            raise ConfigError(
                f"activation: gaussian units allow {', '.join(GAUSSIAN_ACTIVATIONS)}, "
                f"got {cfg.activation!r}"
            )
    if traits.unit_types is not None and cfg.unit_type not in traits.unit_types:
        raise ConfigError(
            f"unit_type: {cfg.rule} needs {' or '.join(traits.unit_types)} units, "
            f"got {cfg.unit_type!r}"
        )
    allowed = registry.baselines_of(cfg.rule)
    if allowed == ("none",) and cfg.baseline != "none":
        raise ConfigError(
            "baseline: only policy-gradient rules "
            f"({', '.join(registry.names_where(policy_gradient=True))}) "
            f"take a baseline, not {cfg.rule!r}"
        )
    if cfg.baseline == "loo" and cfg.loo_samples < 2:
        raise ConfigError(f"loo_samples: the loo baseline needs S >= 2, got {cfg.loo_samples!r}")
    if cfg.baseline not in allowed:
        raise ConfigError(f"baseline: {cfg.rule} takes {', '.join(allowed)}, not {cfg.baseline!r}")
    if cfg.grad_diagnostics and (cfg.grad_diagnostics < 2 or not cfg.is_coagent):
        raise ConfigError(
            "grad_diagnostics: needs R >= 2 (or 0) and a policy-gradient rule, got "
            f"{cfg.grad_diagnostics!r} with {cfg.rule!r}"
        )
    if cfg.stochastic_readout and not cfg.is_coagent:
        raise ConfigError(f"stochastic_readout: needs a policy-gradient rule, not {cfg.rule!r}")
    if cfg.is_coagent and cfg.layers == 0 and (cfg.has_critics or not cfg.stochastic_readout):
        raise ConfigError(f"layers: {cfg.rule} needs at least one stochastic hidden layer")
    if cfg.layers < traits.min_layers:
        raise ConfigError(
            f"layers: {cfg.rule} needs at least {traits.min_layers} hidden layer"
            f"{'s' if traits.min_layers > 1 else ''}, got {cfg.layers}"
        )
    _choice("explore_resample", cfg.explore_resample, study_checks.EXPLORE_RESAMPLES)
    _choice("epsilon_schedule", cfg.epsilon_schedule, study_checks.EPSILON_SCHEDULES)
    study_checks.validate(cfg)  # exploration, staged, partition, value-based, pretraining options
