"""Kinds are one definition plus one registry line: a rule, a unit type and a baseline added
here, outside the package, are accepted by Config validation and used by training code."""

from __future__ import annotations

import typing
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from coagentnet.config import Config, ConfigError, check_rule_options
from coagentnet.model import baselines, units
from coagentnet.model.network import rollout
from coagentnet.rules import registry
from coagentnet.rules.base import RuleContext, RuleSettings
from coagentnet.rules.coagent import coagent_rule
from coagentnet.rules.registry import RuleEntry, RuleTraits
from conftest import PROBLEMS, TINY_RULES

CTX = RuleContext(hyper={"lr": 1.0, "unit_std": 1.0, "critic_ratio": 1.0, "ema_decay": 0.9},
                  epoch=0, step=0)  # fmt: skip
X = jax.random.normal(jax.random.PRNGKey(0), (8, 3))
Y = jnp.array([0, 1, 2, 0, 1, 2, 0, 1])


@pytest.fixture
def added_rule():
    """REINFORCE under a new name that accepts only two baselines."""
    traits = RuleTraits(policy_gradient=True, baselines=("none", "ema"))
    entry = RuleEntry("my_reinforce", partial(coagent_rule, bootstrap=None), traits)
    registry.register_rule(entry)
    yield entry
    registry.unregister_rule(entry.name)


def test_an_added_rule_is_accepted_with_every_baseline_it_declares(added_rule):
    for baseline in added_rule.traits.baselines:
        cfg = Config(rule="my_reinforce", baseline=baseline, layers=1, units=4)
        assert cfg.is_coagent and not cfg.has_critics
        rule = registry.make_rule(cfg, PROBLEMS["classification"])
        params, state = rule.init(jax.random.PRNGKey(1))
        value, _ = rule.loss(params, state, X, Y, jax.random.PRNGKey(2), CTX)
        assert np.isfinite(float(value))
    with pytest.raises(ConfigError, match="baseline: my_reinforce takes none, ema"):
        Config(rule="my_reinforce", baseline="state")
    assert "my_reinforce" in registry.rule_names()


def test_unregistered_rules_are_rejected_and_names_are_not_replaced(added_rule):
    with pytest.raises(ValueError, match="already registered"):
        registry.register_rule(added_rule)
    registry.unregister_rule(added_rule.name)
    with pytest.raises(ConfigError, match="rule: unknown value 'my_reinforce'"):
        Config(rule="my_reinforce")
    registry.register_rule(added_rule)  # for the fixture's clean-up


def test_the_built_in_traits_drive_validation():
    assert registry.names_where(critics=True) == ("actor_critic", "off_policy", "mc_critic")
    with pytest.raises(ConfigError, match="unit_type: straight_through needs bernoulli units"):
        Config(rule="straight_through", unit_type="gaussian")
    with pytest.raises(ConfigError, match="baseline: only policy-gradient rules .* not 'backprop'"):
        Config(rule="backprop", baseline="ema")


def test_what_a_rule_accepts_is_declared_on_its_entry():
    """Options only some rules take, a deterministic hidden MLP and a least depth are traits:
    a rule registered here with them is checked like the built-ins that have them."""
    traits = RuleTraits(
        policy_gradient=True,
        baselines=None,
        options=("partition", "epsilon"),
        deterministic_hidden=True,
        min_layers=2,
    )
    registry.register_rule(RuleEntry("declared", partial(coagent_rule, bootstrap=None), traits))
    try:
        assert registry.names_taking("epsilon") == ("value_based", "declared")
        assert registry.names_taking("partition") == ("reinforce", "declared")
        assert set(registry.options_of_some_rules()) >= set(registry.CRITIC_OPTIONS)
        check_rule_options(Config(rule="declared", layers=2), {"epsilon": "epsilon"})
        with pytest.raises(ConfigError, match="^epsilon: only value_based, declared take it"):
            check_rule_options(Config(rule="reinforce"), {"epsilon": "epsilon"})
        with pytest.raises(ConfigError, match="^layers: declared needs at least 2 hidden layers"):
            Config(rule="declared", layers=1)
        with pytest.raises(ConfigError, match="^activation: declared allows relu, tanh, sigmoid"):
            Config(rule="declared", layers=2, activation="identity")
    finally:
        registry.unregister_rule("declared")
    with pytest.raises(ValueError, match="options must be config field names"):
        registry.register_rule("bad", coagent_rule, policy_gradient=True, options=("no such",))
    with pytest.raises(ValueError, match="min_layers must be an integer >= 0"):
        registry.register_rule("bad", coagent_rule, policy_gradient=True, min_layers=-1)


def test_steps_scale_by_the_parameter_groups_a_rule_declares():
    """The optimiser takes each group's step size from the rule's declaration: the critic
    rules' critics step at critic_ratio times lr, every other group (and every group of a rule
    that declares none) at lr."""
    import jax.numpy as jnp

    from coagentnet.training.optim import scale_updates

    hyper = {"lr": jnp.float32(0.5), "critic_ratio": jnp.float32(4.0)}
    updates = {"hidden": jnp.ones(2), "critics": jnp.ones(2)}
    declared = scale_updates(updates, hyper, (("critics", "critic_ratio"),))
    np.testing.assert_array_equal(declared["hidden"], [-0.5, -0.5])
    np.testing.assert_array_equal(declared["critics"], [-2.0, -2.0])
    plain = scale_updates(updates, hyper)
    np.testing.assert_array_equal(plain["critics"], [-0.5, -0.5])
    problem = PROBLEMS["classification"]
    for name in registry.rule_names():
        cfg = Config(**{"layers": 2, **TINY_RULES[name]})
        scales = registry.make_rule(cfg, problem).step_scales
        assert scales == ((("critics", "critic_ratio"),) if cfg.has_critics else ()), name


def test_every_declared_rule_option_is_a_config_field():
    assert set(registry.options_of_some_rules()) <= set(Config.__dataclass_fields__)


def test_an_added_unit_type_is_accepted_and_rolls_out(monkeypatch):
    def sign(num_actions=2, value_map="", activation=""):
        """Bernoulli units that pass on -1 or +1."""
        return units.bernoulli()._replace(kind="sign", value=lambda a: 2.0 * a - 1.0)

    monkeypatch.setitem(units.UNIT_TYPES, "sign", sign)
    cfg = Config(rule="reinforce", unit_type="sign", layers=2, units=4)
    unit = units.units_from_config(cfg)
    rule = registry.make_rule(cfg, PROBLEMS["classification"])
    params, _ = rule.init(jax.random.PRNGKey(1))
    trace = rollout(params, X, jax.random.PRNGKey(2), unit, 1.0)
    assert set(np.unique(np.asarray(trace.states[1]))) <= {-1.0, 1.0}
    with pytest.raises(ConfigError, match="unit_type: unknown value 'sine'"):
        Config(unit_type="sine")


def test_an_added_baseline_is_accepted_by_policy_gradient_rules(monkeypatch):
    def constant() -> baselines.Baseline:
        """b_t = -1 for every layer: a (poor) action-independent baseline."""
        none = baselines.none()

        def values(params, state, trace):
            return tuple(b - 1.0 for b in none.values(params, state, trace))

        return none._replace(values=values)

    monkeypatch.setitem(baselines.BASELINES, "constant", constant)
    cfg = Config(rule="reinforce", baseline="constant", layers=1, units=4)
    rule = registry.make_rule(cfg, PROBLEMS["classification"])
    params, state = rule.init(jax.random.PRNGKey(1))
    plain = registry.make_rule(cfg.replace(baseline="none"), PROBLEMS["classification"])
    grad = jax.grad(lambda p, r: r.loss(p, state, X, Y, jax.random.PRNGKey(2), CTX)[0])
    # The baseline changes the hidden layer's policy-gradient term, not the read-out's.
    a, b = grad(params, rule), grad(params, plain)
    assert not np.allclose(a["hidden"][0]["w"], b["hidden"][0]["w"])
    np.testing.assert_array_equal(a["readout"]["w"], b["readout"]["w"])
    with pytest.raises(ConfigError, match="baseline: only policy-gradient rules"):
        Config(rule="backprop", baseline="constant")


def test_the_settings_the_rules_read_are_config_fields_of_the_same_type():
    settings = typing.get_type_hints(RuleSettings)
    assert settings.items() <= typing.get_type_hints(Config).items()
