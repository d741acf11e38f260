"""Config validation: bad values are rejected with one line naming the field."""

import pytest

from coagentnet.config import Config, ConfigError, check_rule_options


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"rule": "magic"}, "rule"),
        ({"unit_type": "spiking"}, "unit_type"),
        ({"baseline": "mean"}, "baseline"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"units": 0}, "units"),
        ({"layers": -1}, "layers"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -3}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"unit_std": -1.0}, "unit_std"),
        ({"num_actions": 1}, "num_actions"),
        ({"ema_decay": 1.0}, "ema_decay"),
        ({"units": "64"}, "units"),
        ({"lr": True}, "lr"),
        ({"rule": "backprop", "baseline": "ema"}, "baseline"),
        ({"rule": "straight_through", "unit_type": "gaussian"}, "unit_type"),
        ({"unit_type": "gaussian", "activation": "tanh"}, "activation"),
        ({"rule": "backprop", "activation": "identity"}, "activation"),
        ({"rule": "reinforce", "layers": 0}, "layers"),
        ({"dataset": "imagenet"}, "dataset"),
    ],
)
def test_bad_values_name_the_field(fields, field):
    with pytest.raises(ConfigError) as err:
        Config(**fields)
    message = str(err.value)
    assert message.startswith(f"{field}:") and "\n" not in message


def test_options_of_some_rules_only_for_those_rules():
    with pytest.raises(ConfigError, match="^critic_width: only actor_critic, off_policy"):
        check_rule_options(Config(rule="reinforce"), {"critic_width": "critic_width"})
    check_rule_options(Config(rule="off_policy"), {"critic_width": "critic_width"})
    with pytest.raises(ConfigError, match="^--epsilon: only value_based takes it, not 'backprop'"):
        check_rule_options(Config(rule="backprop"), {"epsilon": "--epsilon"})
    with pytest.raises(ConfigError, match="^partition: needs rule reinforce, not 'backprop'"):
        Config(rule="backprop", partition="s", unit_type="gaussian")


def test_static_key_ignores_population_scalars():
    a = Config(lr=0.1, unit_std=2.0)
    b = Config(lr=0.2, unit_std=3.0, critic_ratio=4.0, ema_decay=0.9)
    assert a.static_key() == b.static_key()
    assert a.static_key() != Config(units=3).static_key()
