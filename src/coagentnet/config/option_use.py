"""Options that only some configurations use: set explicitly where no run uses them they would
change nothing but the run's id, so they are refused.

Two kinds: the options of some rules only, declared on the rules' registry entries (critic
options, value-based units' epsilon, ...: :func:`check_rule_options`), and options that need
another setting (an ema decay without the ema baseline, stream sizes on a fixed data set, ...:
:data:`NEEDS`, :func:`check_unused_options`).
"""

from __future__ import annotations

from coagentnet.config.choices import STREAM
from coagentnet.config.schema import Config
from coagentnet.errors import ConfigError
from coagentnet.rules import registry


def check_rule_options(cfg: Config, given: dict[str, str]) -> None:
    """Reject an option set explicitly (``given``: field -> where it was set, the name shown)
    that only some rules take, where ``cfg``'s rule is not one of them (e.g. a critic option
    for REINFORCE)."""
    taken = registry.rule_options(cfg.rule)
    for name in registry.options_of_some_rules():
        if name in given and name not in taken:
            takers = registry.names_taking(name)
            verb = "takes" if len(takers) == 1 else "take"
            raise ConfigError(
                f"{given[name]}: only {', '.join(takers)} {verb} it, not {cfg.rule!r}"
            )


def takes(rule: str, option: str) -> bool:
    """Whether rule ``rule`` (an unknown name takes nothing) takes ``option``, one of the
    options only some rules take."""
    return rule in registry.RULES and option in registry.rule_options(rule)


def drop_foreign_rule_options(values: dict) -> dict:
    """``values`` (config fields) less the options only other rules than its rule take."""
    rule = values.get("rule", Config.rule)
    foreign = [o for o in registry.options_of_some_rules() if not takes(rule, o)]
    return {k: v for k, v in values.items() if k not in foreign}


#: Options that only some configs use: option -> (what it needs, whether a config uses it).
#: Set to a non-default value where no config uses it, an option is refused (it would change
#: nothing but the run's id).
NEEDS = {
    "ema_decay": ("baseline 'ema'", lambda c: c.baseline == "ema"),
    "loo_samples": ("baseline 'loo'", lambda c: c.baseline == "loo"),
    "num_actions": ("unit_type 'categorical'", lambda c: c.unit_type == "categorical"),
    "value_map": ("unit_type 'categorical'", lambda c: c.unit_type == "categorical"),
    "unit_std": (
        "Gaussian units, a stochastic readout or a partition",
        lambda c: c.unit_type == "gaussian" or c.stochastic_readout or bool(c.partition),
    ),
    "activation": (
        "rule 'backprop', Gaussian units or pretraining",
        lambda c: (
            registry.rule_entry(c.rule).traits.deterministic_hidden
            or c.unit_type == "gaussian"
            or c.pretrain_epochs > 0
        ),
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


__all__ = [
    "NEEDS",
    "check_rule_options",
    "check_unused_options",
    "drop_foreign_rule_options",
    "takes",
]
