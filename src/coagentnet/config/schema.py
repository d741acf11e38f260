"""Run configuration: one frozen, validated dataclass per run (:class:`Config`); its checks are
:mod:`coagentnet.config.checks`.

Fields fall in two groups. *Static* fields fix shapes and code paths (data set, architecture,
rule, batch size, epochs); runs that agree on them can share one compiled program. *Scalar*
hyperparameters (``POPULATION_SCALARS``) may differ between members of one population: they
are fed to the vmapped program as arrays, never baked in.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from coagentnet.config.checks import kinds_of, validate
from coagentnet.config.choices import POPULATION_SCALARS, STREAM
from coagentnet.rules import registry


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


def field_kinds() -> dict[str, tuple[str, bool]]:
    """Field name -> ``(kind, optional)``: the declared type (``int``, ``float``, ``bool`` or
    ``str``) and whether ``None`` is allowed. The one reading of the field annotations (the CLI
    options, sweep files and validation all use it)."""
    return kinds_of(Config)
