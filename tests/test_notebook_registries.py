"""A notebook's edit-and-rerun loop: registering a rule or a data set again under its name with
``replace=True`` trains the new code on the new arrays (no compiled program or loaded data of
the old entry is reused); without ``replace`` it is a one-line error naming the existing entry."""

from __future__ import annotations

import numpy as np
import pytest

import coagentnet as cn
from coagentnet.data import DataError, unregister_dataset
from coagentnet.rules import registry
from coagentnet.rules.backprop import backprop_rule
from coagentnet.rules.coagent import coagent_rule
from coagentnet.training.data_cache import config_data

TINY = dict(dataset="digits", layers=1, units=4, batch_size=128, epochs=1)


def _reinforce(cfg, problem):
    return coagent_rule(cfg, problem, bootstrap=None)


@pytest.fixture
def rule_name():
    yield "nb_rule"
    registry.unregister_rule("nb_rule")


def test_a_rule_registered_again_with_replace_trains_the_new_signal(rule_name):
    cn.register_rule(rule_name, _reinforce, policy_gradient=True, baselines=("none",))
    cfg = cn.Config(rule=rule_name, **TINY)
    first = cn.train(cfg, seed=1).final
    assert first == cn.train(cfg.replace(rule="reinforce"), seed=1).final

    taken = "'nb_rule' is already registered .*_reinforce.*replace=True"
    with pytest.raises(ValueError, match=taken) as info:
        cn.register_rule(rule_name, backprop_rule)
    assert "\n" not in str(info.value)

    # Same name, same config object, another signal: the numbers are backprop's, not the old ones.
    cn.register_rule(rule_name, backprop_rule, replace=True)
    second = cn.train(cfg, seed=1).final
    assert second != first
    assert second == cn.train(cfg.replace(rule="backprop"), seed=1).final


def test_built_in_rules_cannot_be_replaced():
    with pytest.raises(ValueError, match="'reinforce' is already registered as a built-in"):
        cn.register_rule("reinforce", backprop_rule, replace=True)


def test_a_data_set_registered_again_with_replace_serves_the_new_arrays():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 3)), rng.integers(0, 2, 50)
    cn.register_dataset("nb_data", x, y)
    try:
        cfg = cn.Config(dataset="nb_data", rule="backprop", units=4, epochs=1)
        old = config_data(cfg)
        assert old.in_dim == 3
        taken = "'nb_data' is already registered .*replace=True"
        with pytest.raises(DataError, match=taken) as info:
            cn.register_dataset("nb_data", x, y)
        assert "\n" not in str(info.value)

        x2, y2 = rng.normal(size=(60, 5)), rng.integers(0, 3, 60)
        cn.register_dataset("nb_data", x2, y2, replace=True)
        new = config_data(cfg)
        assert new is not old and new.in_dim == 5 and new.out_dim == 3
        everything = np.concatenate([new.x_train, new.x_val, new.x_test])
        assert sorted(map(tuple, everything.tolist())) == sorted(
            map(tuple, x2.astype(np.float32).tolist())
        )
        with pytest.raises(DataError, match="built in"):
            cn.register_dataset("digits", x, y, replace=True)
    finally:
        unregister_dataset("nb_data")


def test_the_data_cache_is_keyed_by_the_loader_not_only_the_name():
    """Registered again through the data layer alone (no API cache drop), with the same shape:
    the training's data cache still serves the new arrays, then, after an unregister and a
    fresh registration, the newest ones again."""
    from coagentnet.data import register_dataset

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    register_dataset("nb_same", x, y)
    try:
        cfg = cn.Config(dataset="nb_same", rule="backprop", units=4, epochs=1)
        old = config_data(cfg)
        assert config_data(cfg) is old  # one load per process while the entry stands
        register_dataset("nb_same", x + 100.0, y, replace=True)
        new = config_data(cfg)
        assert new is not old and new.in_dim == old.in_dim
        assert float(np.min(new.x_train)) > 50 > float(np.max(old.x_train))
        unregister_dataset("nb_same")
        register_dataset("nb_same", x - 100.0, y)
        assert float(np.max(config_data(cfg).x_train)) < -50
    finally:
        unregister_dataset("nb_same")
