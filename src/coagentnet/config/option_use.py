"""Options that only some configurations use (an ema decay without the ema baseline, stream
sizes on a fixed data set, ...): set explicitly where no run uses them they would change
nothing but the run's id, so they are refused, as the critic options are for non-critic rules
(:func:`coagentnet.config.check_critic_options`)."""

from __future__ import annotations

from coagentnet.config import STREAM, Config
from coagentnet.errors import ConfigError

#: Options that only some configs use: option -> (what it needs, whether a config uses it).
#: Set to a non-default value where no config uses it, an option is refused (it would change
#: nothing but the run's id).
NEEDS = {
    "ema_decay": ("baseline 'ema'", lambda c: c.baseline == "ema"),
    "loo_samples": ("baseline 'loo'", lambda c: c.baseline == "loo"),
    "epsilon": ("rule 'value_based'", lambda c: c.rule == "value_based"),
    "epsilon_schedule": ("rule 'value_based'", lambda c: c.rule == "value_based"),
    "num_actions": ("unit_type 'categorical'", lambda c: c.unit_type == "categorical"),
    "value_map": ("unit_type 'categorical'", lambda c: c.unit_type == "categorical"),
    "unit_std": (
        "Gaussian units, a stochastic readout or a partition",
        lambda c: c.unit_type == "gaussian" or c.stochastic_readout or bool(c.partition),
    ),
    "activation": (
        "rule 'backprop', Gaussian units or pretraining",
        lambda c: c.rule == "backprop" or c.unit_type == "gaussian" or c.pretrain_epochs > 0,
    ),
    "explore_resample": ("explore_units > 0", lambda c: c.explore_units > 0),
    "finetune_optimizer": ("pretrain_epochs > 0", lambda c: c.pretrain_epochs > 0),
    "finetune_lr_scale": ("pretrain_epochs > 0", lambda c: c.pretrain_epochs > 0),
    "staged": ("layers > 1", lambda c: c.layers > 1),
    **{
        name: (f"dataset {STREAM!r}", lambda c: c.dataset == STREAM)
        for name in ("difficulty", "num_means", "batches_per_mean", "num_evals")
    },
}


def check_unused_options(configs, given: dict[str, str]) -> None:
    """Raise ConfigError if an option set explicitly (``given``: field -> where it was set,
    the name shown) to a non-default value is used by none of ``configs`` (see ``NEEDS``)."""
    defaults = Config()
    for name, where in given.items():
        if name not in NEEDS:
            continue
        needs, uses = NEEDS[name]
        default = getattr(defaults, name)
        if any(uses(c) for c in configs) or all(getattr(c, name) == default for c in configs):
            continue
        first = configs[0]
        raise ConfigError(f"{where}: has no effect without {needs} (this run: {_context(first)})")


def _context(cfg: Config) -> str:
    return (
        f"rule {cfg.rule!r}, baseline {cfg.baseline!r}, unit_type {cfg.unit_type!r}, "
        f"dataset {cfg.dataset!r}, layers {cfg.layers}"
    )


__all__ = ["NEEDS", "check_unused_options"]
