"""The one registry of learning rules: each entry is a constructor and the traits that config
validation, the planner and the training loop ask about.

A new rule is one constructor ``(cfg, problem) -> Rule`` and one :class:`RuleEntry` in
:data:`BUILTIN` (or, for a rule defined outside the package, one :func:`register_rule` call
before its configs are built). :class:`~coagentnet.config.Config` reads the names and traits
from here, so nothing else lists rule names.
"""

import importlib
from collections.abc import Callable, Mapping
from functools import partial
from typing import NamedTuple

from coagentnet.model.kinds import DISCRETE_UNIT_KINDS as DISCRETE_UNITS
from coagentnet.model.kinds import baseline_kinds, unit_kinds


class Builtin(NamedTuple):
    """A built-in rule's constructor, imported on its first call (the rule modules import JAX;
    the names and traits here do not, so config validation and ``coagentnet --help`` start
    without it). ``keywords``: fixed arguments, as ``functools.partial`` would bind them."""

    module: str
    function: str
    keywords: tuple[tuple[str, object], ...] = ()

    @property
    def func(self) -> Callable:
        return getattr(importlib.import_module(f"coagentnet.rules.{self.module}"), self.function)

    def __call__(self, cfg, problem):
        return self.func(cfg, problem, **dict(self.keywords))


#: Config fields only the critic rules take; ``critics=True`` brings them to a rule's options.
CRITIC_OPTIONS = (
    "critic_width",
    "critic_depth",
    "critic_ratio",
    "actor_signal",
    "warm_start_epochs",
    "critic_target",
    "critic_input_norm",
)


class RuleTraits(NamedTuple):
    """What a rule is, as far as the code around it needs to know.

    ``policy_gradient``: hidden layers learn from a policy-gradient signal, so the study options
    built on log-probabilities (exploration subsets, staged freezing, pretraining, a stochastic
    read-out) apply. ``critics``: it has per-layer critics (the critic options apply).
    ``baselines``: the baseline kinds it accepts (``None``: every kind of
    :data:`~coagentnet.model.baselines.BASELINES`, new ones included). ``unit_types``: the unit
    types it accepts (``None``: any; backprop ignores the unit type). ``options``: the config
    fields that only some rules take and this one does (``critics=True`` adds
    :data:`CRITIC_OPTIONS`); given explicitly to a rule that does not take them, they are refused
    (they would change nothing but the run's id). ``deterministic_hidden``: the hidden layers
    are a deterministic MLP (``activation`` is their nonlinearity). ``min_layers``: the fewest
    hidden layers it can train.
    """

    policy_gradient: bool = False
    critics: bool = False
    baselines: tuple[str, ...] | None = ("none",)
    unit_types: tuple[str, ...] | None = None
    options: tuple[str, ...] = ()
    deterministic_hidden: bool = False
    min_layers: int = 0


class RuleEntry(NamedTuple):
    name: str
    make: Callable
    """``(cfg, problem) -> Rule``."""
    traits: RuleTraits


_PG = RuleTraits(policy_gradient=True, baselines=None)
_CRITIC = _PG._replace(critics=True)
_BERNOULLI = RuleTraits(unit_types=("bernoulli",))

_ST = ("straight_through", "straight_through_rule")
_COAGENT = ("coagent", "coagent_rule")

BUILTIN: tuple[RuleEntry, ...] = (
    RuleEntry(
        "backprop", Builtin("backprop", "backprop_rule"), RuleTraits(deterministic_hidden=True)
    ),
    RuleEntry("straight_through", Builtin(*_ST, (("gated", False),)), _BERNOULLI),
    RuleEntry("straight_through_gated", Builtin(*_ST, (("gated", True),)), _BERNOULLI),
    RuleEntry(
        "reinforce",
        Builtin(*_COAGENT, (("bootstrap", None),)),
        _PG._replace(options=("partition",)),  # partition networks are trained by REINFORCE
    ),
    RuleEntry("actor_critic", Builtin(*_COAGENT, (("bootstrap", "sampled"),)), _CRITIC),
    RuleEntry("off_policy", Builtin(*_COAGENT, (("bootstrap", "greedy"),)), _CRITIC),
    RuleEntry("mc_critic", Builtin(*_COAGENT, (("bootstrap", "monte_carlo"),)), _CRITIC),
    RuleEntry(
        "greedy_return",
        Builtin(*_COAGENT, (("bootstrap", None), ("continuation", "return"))),
        _PG,
    ),
    RuleEntry(
        "greedy_counterfactual",
        Builtin(*_COAGENT, (("bootstrap", None), ("continuation", "counterfactual"))),
        # Summing over a unit's actions cancels any baseline exactly: it takes none.
        _PG._replace(baselines=("none",), unit_types=DISCRETE_UNITS),
    ),
    RuleEntry(
        "value_based",
        Builtin("value_based", "value_based_rule"),
        RuleTraits(
            unit_types=DISCRETE_UNITS, options=("epsilon", "epsilon_schedule"), min_layers=1
        ),
    ),
)

# The registry proper. Built-ins fill it here; register_rule is the one way to add to it.
_RULES: dict[str, RuleEntry] = {entry.name: entry for entry in BUILTIN}


def register_rule(
    entry: RuleEntry | str,
    make: Callable | None = None,
    traits: RuleTraits | None = None,
    *,
    replace: bool = False,
    **trait_values,
) -> RuleEntry:
    """Add a rule defined outside the package (call it before building its configs).

    Either ``register_rule(RuleEntry(...))`` or ``register_rule(name, make, traits)`` /
    ``register_rule(name, make, policy_gradient=True, baselines=None)`` (trait keywords build
    the :class:`RuleTraits`). ``make(cfg, problem) -> Rule``. Returns the entry registered.

    ``replace=True`` replaces a rule registered earlier under the same name (the notebook's
    edit-and-rerun loop): programs compiled for the old entry are never used again, since the
    compiled-trainer cache is keyed by the entry itself (:func:`rule_entry`), and
    ``coagentnet.register_rule`` also drops them (:func:`coagentnet.api.drop_caches`).
    Built-in rules cannot be replaced.

    Raises ``ValueError`` (one line) if the name is taken and ``replace`` is false (a rule is
    never replaced behind the back of configs built with it), or the traits contradict each
    other or name unknown baselines or unit types.
    """
    if isinstance(entry, str):
        if traits is not None and trait_values:
            raise ValueError(f"rule {entry!r}: give traits or trait keywords, not both")
        entry = RuleEntry(entry, make, traits or RuleTraits(**trait_values))
    elif make is not None or traits is not None or trait_values:
        raise ValueError(f"rule {entry.name!r}: a RuleEntry already carries make and traits")
    if not isinstance(entry.name, str) or not entry.name.isidentifier():
        raise ValueError(f"rule name must be an identifier, got {entry.name!r}")
    if entry.name in {builtin.name for builtin in BUILTIN}:
        raise ValueError(
            f"rule {entry.name!r} is already registered as a built-in; pick another name"
        )
    if entry.name in _RULES and not replace:
        old = _RULES[entry.name].make
        raise ValueError(
            f"rule {entry.name!r} is already registered (make={_describe(old)}); "
            "pass replace=True to replace it"
        )
    if not callable(entry.make):
        raise ValueError(f"rule {entry.name!r}: make must be a callable (cfg, problem) -> Rule")
    check_traits(entry.name, entry.traits)
    _RULES[entry.name] = entry
    return entry


def _describe(make: Callable) -> str:
    """``module.qualname`` of a rule constructor (a partial: its function's)."""
    func = make.func if isinstance(make, Builtin | partial) else make
    name = getattr(func, "__qualname__", None) or type(func).__name__
    module = getattr(func, "__module__", None)
    return f"{module}.{name}" if module else name


def check_traits(name: str, traits: RuleTraits) -> None:
    """Raise ``ValueError`` if ``traits`` contradict each other or name unknown kinds."""
    if traits.critics and not traits.policy_gradient:
        # The per-layer critics replace the reward in a policy-gradient signal: no such signal,
        # nothing for them to do.
        raise ValueError(f"rule {name!r}: critics=True needs policy_gradient=True")
    if traits.baselines is not None:
        if not traits.baselines:
            raise ValueError(f"rule {name!r}: baselines must name at least one kind ('none')")
        unknown = set(traits.baselines) - set(baseline_kinds())
        if unknown:
            raise ValueError(f"rule {name!r}: unknown baselines {sorted(unknown)}")
        if traits.baselines != ("none",) and not traits.policy_gradient:
            raise ValueError(
                f"rule {name!r}: only policy-gradient rules take a baseline; "
                "set policy_gradient=True or baselines=('none',)"
            )
    elif not traits.policy_gradient:
        raise ValueError(f"rule {name!r}: baselines=None (every kind) needs policy_gradient=True")
    if traits.unit_types is not None:
        unknown = set(traits.unit_types) - set(unit_kinds())
        if not traits.unit_types or unknown:
            raise ValueError(f"rule {name!r}: unknown unit types {sorted(unknown) or '()'}")
    if not all(isinstance(o, str) and o.isidentifier() for o in traits.options):
        raise ValueError(f"rule {name!r}: options must be config field names")
    layers = traits.min_layers
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 0:
        raise ValueError(f"rule {name!r}: min_layers must be an integer >= 0")


def unregister_rule(name: str) -> None:
    """Remove a rule added by :func:`register_rule` (built-ins stay)."""
    if name in {entry.name for entry in BUILTIN}:
        raise ValueError(f"rule {name!r} is built in")
    _RULES.pop(name, None)


class _Rules(Mapping):
    """Read-only view of the registry: name -> :class:`RuleEntry` (``coagentnet.RULES``)."""

    def __getitem__(self, name: str) -> RuleEntry:
        return _RULES[name]

    def __iter__(self):
        return iter(_RULES)

    def __len__(self) -> int:
        return len(_RULES)

    def __repr__(self) -> str:
        return f"RULES({', '.join(_RULES)})"


#: Every registered rule, built-ins first; add to it with :func:`register_rule`.
RULES: Mapping[str, RuleEntry] = _Rules()


def rule_names() -> tuple[str, ...]:
    """Every registered rule name, built-ins first."""
    return tuple(_RULES)


def rule_entry(name: str) -> RuleEntry:
    """The entry of rule ``name`` (``KeyError`` if none)."""
    return _RULES[name]


def names_where(**traits) -> tuple[str, ...]:
    """The rules whose traits have the given values, e.g. ``names_where(critics=True)``."""
    return tuple(
        n for n, e in _RULES.items() if all(getattr(e.traits, k) == v for k, v in traits.items())
    )


def rule_options(name: str) -> tuple[str, ...]:
    """The config fields only some rules take that rule ``name`` takes."""
    traits = _RULES[name].traits
    return traits.options + (CRITIC_OPTIONS if traits.critics else ())


def options_of_some_rules() -> tuple[str, ...]:
    """Every config field that only some registered rules take."""
    return tuple(dict.fromkeys(o for name in _RULES for o in rule_options(name)))


def names_taking(option: str) -> tuple[str, ...]:
    """The rules that take config field ``option`` (see :func:`rule_options`)."""
    return tuple(n for n in _RULES if option in rule_options(n))


def baselines_of(name: str) -> tuple[str, ...]:
    """The baseline kinds rule ``name`` accepts."""
    declared = _RULES[name].traits.baselines
    return baseline_kinds() if declared is None else declared


def make_rule(cfg, problem):
    """The :class:`~coagentnet.rules.base.Rule` named by ``cfg.rule`` for ``problem``."""
    return _RULES[cfg.rule].make(cfg, problem)
