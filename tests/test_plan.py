"""Run ids and the grouping of runs into populations."""

import re

import pytest

from coagentnet.config import Config
from coagentnet.sweeps.plan import make_run, plan, run_id
from coagentnet.training.memory import member_bytes


def test_run_id_is_stable_short_and_sensitive():
    cfg = Config(units=8)
    assert re.fullmatch(r"[0-9a-f]{16}", run_id(cfg, 0))
    assert run_id(cfg, 0) == run_id(Config(units=8), 0)
    assert run_id(cfg, 0) != run_id(cfg, 1)
    assert run_id(cfg, 0) != run_id(cfg.replace(lr=cfg.lr * 2), 0)
    mnist = Config(dataset="mnist", units=8)  # data_dir applies to data sets read from files
    assert run_id(mnist, 0) != run_id(mnist.replace(data_dir="/x"), 0)


def test_run_ids_from_before_input_range_are_kept_and_the_option_changes_them():
    # Ids computed by the code before the input_range field existed: stores made then resume.
    assert run_id(Config(), 0) == "d9147b766578af42"
    deep = Config(dataset="mnist-test10k", layers=3, rule="off_policy")
    assert run_id(deep, 4) == "a515209ef79b2576"
    assert run_id(deep.replace(input_range="unit"), 4) != run_id(deep, 4)


def _runs(rules=("reinforce", "backprop"), lrs=(0.1, 0.2, 0.3), seeds=range(3)):
    return [
        make_run(Config(rule=rule, lr=lr, units=8), seed)
        for rule in rules
        for lr in lrs
        for seed in seeds
    ]


def test_groups_by_static_key_in_sweep_order():
    runs = _runs()
    pops = plan(runs)
    assert len(pops) == 2
    assert [p.runs[0].config.rule for p in pops] == ["reinforce", "backprop"]
    for p in pops:
        keys = {c.static_key() for c in p.configs}
        assert len(keys) == 1
    assert sorted(r.id for p in pops for r in p.runs) == sorted(r.id for r in runs)


def test_max_population_gives_balanced_chunks():
    pops = plan(_runs(rules=("reinforce",), seeds=range(10)), max_population=8)  # 30 runs
    assert [len(p) for p in pops] == [8, 8, 7, 7]
    assert [len(p) for p in plan(_runs(), max_population=1)] == [1] * 18


def test_memory_budget_limits_population_size():
    runs = _runs(rules=("reinforce",))
    per = member_bytes(runs[0].config)
    assert [len(p) for p in plan(runs, memory_bytes=4 * per)] == [3, 3, 3]
    assert [len(p) for p in plan(runs, memory_bytes=per // 2)] == [1] * 9  # at least one


def test_split_for_workers():
    pops = plan(_runs(rules=("reinforce",), seeds=range(2)), workers=4)  # 6 runs, 1 group
    assert [len(p) for p in pops] == [2, 2, 1, 1]
    assert len(plan(_runs(rules=("reinforce",), seeds=[0]), workers=8)) == 3  # cannot split more


def test_member_bytes_grows_with_size():
    small = member_bytes(Config(units=8))
    assert member_bytes(Config(units=64)) > small
    assert member_bytes(Config(units=8, dataset="mnist")) > small
    critic = Config(units=8, rule="off_policy", critic_width=1024)
    assert member_bytes(critic) > member_bytes(critic.replace(critic_width=64))


def test_state_bytes_are_those_of_the_real_initialised_state(tiny_rule_fields, digits):
    # The memory model reads shapes off the rule's and optimiser's own initialisers: it must
    # agree with the state the training loop actually builds, for every rule of the catalogue.
    import jax

    from coagentnet.training.batches import training_data
    from coagentnet.training.loop import Trainer
    from coagentnet.training.members import population_setup
    from coagentnet.training.memory import state_bytes, tree_bytes

    cfg = Config(**tiny_rule_fields)
    trainer = Trainer(cfg, training_data(cfg, digits))
    hyper, keys, layout = population_setup([cfg], [0], jax.devices()[:1])
    state = trainer.programs(layout).init(keys, hyper)  # P = 1: the same bytes as one member
    real = 2 * tree_bytes(state.params) + tree_bytes(state.rule_state)
    assert state_bytes(cfg) == real + tree_bytes(state.opt_state)


def test_member_bytes_of_an_unknown_data_set_is_an_error_not_a_guess():
    from coagentnet.data import DataError, dataset_shape

    with pytest.raises(DataError, match="unknown data set 'cifar'"):
        dataset_shape("cifar")
