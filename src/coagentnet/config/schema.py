"""Run configuration: one frozen, validated dataclass per run (:class:`Config`), and its validation.

Fields fall in two groups. *Static* fields fix shapes and code paths (data set, architecture,
rule, batch size, epochs); runs that agree on them can share one compiled program. *Scalar*
hyperparameters (``POPULATION_SCALARS``) may differ between members of one population: they
are fed to the vmapped program as arrays, never baked in.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, fields

from coagentnet import study_options
from coagentnet.config_choices import (
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
from coagentnet.data import INPUT_RANGES, dataset_names, input_range_problem
from coagentnet.errors import ConfigError
from coagentnet.model.kinds import baseline_kinds, unit_kinds
from coagentnet.rules import registry
from coagentnet.validate import MAX_INT, MAX_SEED


@dataclass(frozen=True)
class Config:
    """Everything that defines one training run except its seed.

    Defaults follow the paper's main setting (Gupta et al. 2021) where one exists.
    """

    # --- data ---
    dataset: str = "digits"
    """Data set name (``coagentnet.data.dataset_names()``: built-ins and registered ones)."""
    data_dir: str | None = None
    """Directory holding data files (IDX etc.); ``None`` searches the usual places."""
    split_seed: int = 0
    """Seed of the train/validation/test split; independent of the run seed."""
    normalize: bool = False
    """Standardise tabular features with train-set statistics."""
    input_range: str = "symmetric"
    """Image data sets: pixels in [-1, 1] (symmetric, the paper's) or in [0, 1] (unit)."""
    difficulty: float = 0.0
    """Correlated stream: d in [0, 1], the correlation of samples within a segment."""
    num_means: int = 200
    """Correlated stream: M, segments (means of the AR(1) walk)."""
    batches_per_mean: int = 1600
    """Correlated stream: S, consecutive updates per segment (M * S updates in all)."""
    num_evals: int = 200
    """Correlated stream: evaluations, evenly over the stream (plus one before training)."""

    # --- network ---
    layers: int = 1
    """L, the number of stochastic hidden layers (0 = linear read-out only)."""
    units: int = 64
    """U, units per hidden layer."""
    unit_type: str = "bernoulli"
    """Coagent policy: bernoulli (1 logit), bernoulli2 (2 logits), categorical, gaussian."""
    num_actions: int = 2
    """K, actions per categorical unit."""
    value_map: str = "symmetric"
    """Categorical action k as a value: index k, unit k/(K-1), symmetric 2k/(K-1)-1."""
    unit_std: float = 1.0
    """Fixed standard deviation of Gaussian units (and of a stochastic read-out)."""
    activation: str = "relu"
    """Backprop hidden activation (relu/tanh/sigmoid) or Gaussian post-sample (identity/relu)."""
    stochastic_readout: bool = False
    """Gaussian read-out trained by REINFORCE (regression only), as the authors' regression runs."""
    partition: str = ""
    """Partition net: one letter per layer, s (Gaussian) or d (deterministic); '' = all s."""

    # --- rule ---
    rule: str = "reinforce"
    """Credit-assignment rule (the registry :mod:`coagentnet.rules.registry`)."""
    baseline: str = "none"
    """Baseline subtracted from the policy-gradient signal (``BASELINES``)."""
    ema_decay: float = 0.99
    """Decay of the ``ema`` baseline."""
    loo_samples: int = 4
    """``loo`` baseline: S >= 2 rollouts of each example per update (S forward passes)."""
    critic_width: int = 64
    """Hidden width of each layer's critic MLP."""
    critic_depth: int = 1
    """Hidden layers of each critic MLP."""
    critic_ratio: float = 2.0
    """Critic learning rate divided by the network's learning rate."""
    actor_signal: str = "target"
    """Critic rules: actor signal is the critic target y_t (authors) or Q_t(s_t, a_t)."""
    warm_start_epochs: int = 0
    """Critic rules: use the reinforce signal for this many epochs first (critics still learn)."""
    critic_target: float = 0.0
    """Critic rules: bootstrap from target critics, a Polyak average with this rate (0: none)."""
    critic_input_norm: bool = False
    """Critic rules: layer-normalise each critic's input concat(s_t, a_t) (no learned scale)."""
    explore_units: int = 0
    """Exploration subset: k units per layer sample in training, the rest act greedily; 0 = all."""
    explore_resample: str = "batch"
    """Exploration subset: draw a new random subset every batch or every epoch."""
    staged: bool = False
    """Staged training: layer n < L-1 turns greedy and frozen from epoch floor((n+1)/L*epochs)."""
    epsilon: float = 0.1
    """value_based: epsilon-greedy exploration rate (constant schedule, sampled evaluation)."""
    epsilon_schedule: str = "constant"
    """value_based: constant epsilon, or decay from 1 by 1e-4 per update down to 0.01."""
    pretrain_epochs: int = 0
    """Backprop epochs first: train the same MLP, copy its weights, then run the rule."""
    finetune_optimizer: str = "sgd"
    """Pretraining: optimiser of the coagent phase (the authors switched to SGD)."""
    finetune_lr_scale: float = 2.0**-7
    """Pretraining: the coagent phase's learning rate is lr times this (authors: 1/128)."""

    # --- optimisation ---
    optimizer: str = "rmsprop"
    """rmsprop (decay 0.99, eps 1e-8), adam (0.9, 0.999, 1e-8) or sgd."""
    lr: float = 2.0**-11
    """Learning rate alpha."""
    clip_norm: float = 0.0
    """Global-norm gradient clipping per network; 0 disables it."""
    batch_size: int = 32
    """B, episodes (examples) per update."""
    epochs: int = 10
    """Passes over the training set."""

    # --- evaluation ---
    eval_mode: str = "greedy"
    """greedy (every unit takes its most likely action / mean) or sampled."""
    grad_diagnostics: int = 0
    """R >= 2: every evaluation also records grad_var, grad_snr, grad_cos per layer from R
    updates (coagentnet.diagnostics); 0 = off."""

    def __post_init__(self) -> None:
        validate(self)

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def is_stream(self) -> bool:
        return self.dataset == STREAM

    @property
    def is_coagent(self) -> bool:
        return registry.rule_entry(self.rule).traits.policy_gradient

    @property
    def has_critics(self) -> bool:
        return registry.rule_entry(self.rule).traits.critics

    def static_key(self) -> tuple:
        """The fields that must agree for runs to share one population (compiled program)."""
        return tuple(
            (f.name, getattr(self, f.name))
            for f in fields(self)
            if f.name not in POPULATION_SCALARS
        )


def _choice(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}: unknown value {value!r}; allowed: {', '.join(allowed)}")


def _positive(name: str, value, strict: bool = True) -> None:
    if strict and not value > 0:
        raise ConfigError(f"{name}: must be > 0, got {value!r}")
    if not strict and not value >= 0:
        raise ConfigError(f"{name}: must be >= 0, got {value!r}")


@functools.cache  # read-only: every Config built checks its fields against it
def field_kinds() -> dict[str, tuple[str, bool]]:
    """Field name -> ``(kind, optional)``: the declared type (``int``, ``float``, ``bool`` or
    ``str``) and whether ``None`` is allowed. The one reading of the field annotations (the CLI
    options, sweep files and validation all use it)."""
    out = {}
    for f in fields(Config):
        kind, _, rest = str(f.type).partition(" | ")
        out[f.name] = (kind, rest == "None")
    return out


def accepts(kind: str, value: object) -> bool:
    """Whether ``value`` has field kind ``kind``: an int is a float, a bool is not a number
    (bool is an int subclass in Python)."""
    if isinstance(value, bool):
        return kind == "bool"
    return isinstance(value, {"int": int, "float": (int, float), "bool": bool, "str": str}[kind])


def _check_types(cfg: Config) -> None:
    for name, (kind, optional) in field_kinds().items():
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


def validate(cfg: Config) -> None:
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
    if cfg.rule == "backprop" and cfg.activation not in BACKPROP_ACTIVATIONS:
        raise ConfigError(
            f"activation: backprop allows {', '.join(BACKPROP_ACTIVATIONS)}, got {cfg.activation!r}"
        )
    if cfg.rule != "backprop" and cfg.unit_type == "gaussian":
        if cfg.activation not in GAUSSIAN_ACTIVATIONS:
            raise ConfigError(
                f"activation: gaussian units allow {', '.join(GAUSSIAN_ACTIVATIONS)}, "
                f"got {cfg.activation!r}"
            )
    traits = registry.rule_entry(cfg.rule).traits
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
    study_options.validate(cfg)  # exploration, staged, partition, value-based, pretraining options
