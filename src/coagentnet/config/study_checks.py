"""Validation of the options of the paper's further studies (Gupta et al. 2021).

The options themselves are :class:`~coagentnet.config.Config` fields; their logic lives in
:mod:`coagentnet.rules.exploration` (exploration subsets), :mod:`coagentnet.rules.staged`
(staged freezing), :mod:`coagentnet.rules.value_based` (value-based units),
:mod:`coagentnet.model.partition` (partition networks) and :mod:`coagentnet.training.pretrain`
(backprop pretraining). It checks that a configuration combines them sensibly (what a rule
accepts is read from its registry entry); every error is one line naming the field.
"""

from __future__ import annotations

from coagentnet.errors import ConfigError
from coagentnet.rules import registry

#: When an exploration subset is redrawn: every update or every epoch.
EXPLORE_RESAMPLES = ("batch", "epoch")
#: epsilon of value-based units: constant, or the paper's decay 1 -> 0.01 by 1e-4 per update.
EPSILON_SCHEDULES = ("constant", "decay")
#: Unit types whose layers have the shape of a backprop layer (one pre-activation per unit).
PRETRAIN_UNIT_TYPES = ("bernoulli", "gaussian")


def validate(cfg) -> None:
    """Raise :class:`ConfigError` for a bad or unsupported combination of study options (their
    choice values are checked with the other choices, in :mod:`coagentnet.config.checks`)."""
    _exploration(cfg)
    _staged(cfg)
    _partition(cfg)
    _epsilon(cfg)
    _pretrain(cfg)


def _exploration(cfg) -> None:
    if not 0 <= cfg.explore_units <= cfg.units:
        raise ConfigError(
            f"explore_units: must be in [0, units={cfg.units}] (0 = all), got {cfg.explore_units}"
        )
    if cfg.explore_units and not cfg.is_coagent:
        raise ConfigError(f"explore_units: needs a policy-gradient rule, not {cfg.rule!r}")


def _staged(cfg) -> None:
    if not cfg.staged:
        return
    if not cfg.is_coagent:
        raise ConfigError(f"staged: needs a policy-gradient rule, not {cfg.rule!r}")
    if cfg.epochs < cfg.layers:
        # Layer n freezes after epoch floor((n+1)/L * epochs): with fewer epochs than layers
        # some layer would be frozen before it ever trained.
        raise ConfigError(f"staged: needs epochs >= layers ({cfg.layers}), got {cfg.epochs}")
    if cfg.eval_mode == "sampled":
        # Evaluation does not know the epoch, so it cannot tell which layers are frozen.
        raise ConfigError("staged: frozen layers act greedily; use greedy evaluation")


def _partition(cfg) -> None:
    layout = cfg.partition
    if not layout:
        return
    if set(layout) - {"s", "d"} or len(layout) != cfg.layers:
        raise ConfigError(
            f"partition: expected one letter, s or d, per hidden layer "
            f"(layers={cfg.layers}), got {layout!r}"
        )
    if "partition" not in registry.rule_options(cfg.rule):
        takers = " or ".join(registry.names_taking("partition"))
        raise ConfigError(f"partition: needs rule {takers}, not {cfg.rule!r}")
    if cfg.unit_type != "gaussian":
        raise ConfigError(f"partition: needs gaussian units, not {cfg.unit_type!r}")
    if "s" not in layout and not cfg.stochastic_readout:
        raise ConfigError("partition: needs an 's' layer or a stochastic read-out (else backprop)")
    if cfg.explore_units or cfg.staged:
        raise ConfigError("partition: cannot be combined with explore_units or staged")


def _epsilon(cfg) -> None:
    if not 0.0 <= cfg.epsilon <= 1.0:
        raise ConfigError(f"epsilon: must be in [0, 1], got {cfg.epsilon!r}")


def _pretrain(cfg) -> None:
    if cfg.pretrain_epochs < 0:
        raise ConfigError(f"pretrain_epochs: must be >= 0, got {cfg.pretrain_epochs!r}")
    if not cfg.finetune_lr_scale > 0:
        raise ConfigError(f"finetune_lr_scale: must be > 0, got {cfg.finetune_lr_scale!r}")
    if not cfg.pretrain_epochs:
        return
    if not cfg.is_coagent:
        raise ConfigError(f"pretrain_epochs: needs a policy-gradient rule, not {cfg.rule!r}")
    if cfg.is_stream:
        raise ConfigError("pretrain_epochs: the correlated stream is consumed once; not both")
    if cfg.unit_type not in PRETRAIN_UNIT_TYPES:
        raise ConfigError(
            f"pretrain_epochs: needs {' or '.join(PRETRAIN_UNIT_TYPES)} units (layers of a "
            f"backprop net's shape), not {cfg.unit_type!r}"
        )
    if cfg.unit_type == "gaussian" and cfg.activation != "relu":
        raise ConfigError("pretrain_epochs: gaussian units need activation relu (as backprop)")
