"""Grouping invariance, bitwise: a run's numbers do not depend on the population it is in.

For every rule family, the same (config, seed) is trained alone and twice, first and last, in
a population of three whose middle member has another seed and learning rate; every metric at
every evaluation and the final parameters must be identical to the last bit (no tolerance:
coagentnet.training.devices says why this holds, and it must hold on any CPU). The backends are
checked in test_backends.py, several CPU devices in test_devices.py.
"""

import os
import subprocess
import sys

import pytest

from coagentnet.config import Config
from coagentnet.training.devices import MEMBER_TILE_ENV, member_tile
from coagentnet.training.run import run_population, train
from conftest import TINY_RULES, assert_same_run

DIGITS = dict(dataset="digits", layers=2, units=8, epochs=2, batch_size=64, lr=2.0**-6)
STREAM = dict(
    dataset="correlated",
    difficulty=0.95,
    num_means=4,
    batches_per_mean=25,
    num_evals=4,
    epochs=1,
    layers=1,
    units=16,
    unit_type="gaussian",
    activation="relu",
    unit_std=1.0,
    lr=2.0**-7,
)
TABULAR = dict(dataset="boston", normalize=True, epochs=3, batch_size=32, units=8, lr=2.0**-7)

#: Every registered rule on tiny digits (the catalogue of conftest.py: a rule is checked here by
#: being registered), then variants of units, baselines, options and data sets.
FAMILIES = {name: dict(DIGITS, **fields) for name, fields in TINY_RULES.items()} | {
    "reinforce": dict(DIGITS, rule="reinforce"),
    "reinforce+ema": dict(DIGITS, rule="reinforce", baseline="ema"),
    "reinforce+state": dict(DIGITS, rule="reinforce", baseline="state"),
    "reinforce+layer_state": dict(DIGITS, rule="reinforce", baseline="layer_state"),
    "actor_critic": dict(DIGITS, rule="actor_critic", baseline="ema"),
    "off_policy": dict(DIGITS, rule="off_policy", baseline="layer_state"),
    "mc_critic": dict(DIGITS, rule="mc_critic"),
    "off_policy+target+norm": dict(
        DIGITS, rule="off_policy", critic_target=0.05, critic_input_norm=True
    ),
    "reinforce+self_critical": dict(DIGITS, rule="reinforce", baseline="self_critical"),
    "greedy_return": dict(DIGITS, rule="greedy_return", baseline="ema"),
    "greedy_counterfactual": dict(DIGITS, rule="greedy_counterfactual"),
    "greedy_counterfactual_kary": dict(
        DIGITS, rule="greedy_counterfactual", unit_type="categorical", num_actions=3
    ),
    "straight_through": dict(DIGITS, rule="straight_through"),
    "straight_through_gated": dict(DIGITS, rule="straight_through_gated"),
    "backprop": dict(DIGITS, rule="backprop"),
    "value_based": dict(DIGITS, rule="value_based", unit_type="categorical", num_actions=3),
    "categorical": dict(DIGITS, rule="reinforce", unit_type="categorical", num_actions=3),
    "explore+staged": dict(DIGITS, rule="reinforce", explore_units=3, staged=True, epochs=3),
    "stream_gaussian": dict(STREAM, rule="reinforce", baseline="ema"),
    "stream_off_policy": dict(STREAM, rule="off_policy", unit_type="bernoulli", layers=2),
    "partition": dict(TABULAR, rule="reinforce", layers=2, unit_type="gaussian", partition="sd"),
    "pretraining": dict(
        TABULAR, rule="reinforce", layers=1, unit_type="gaussian", pretrain_epochs=2
    ),
}


@pytest.mark.parametrize(
    "family",
    [pytest.param(f, marks=pytest.mark.slow) for f in FAMILIES],
)
def test_member_is_bitwise_its_solo_run(family):
    target = Config(**FAMILIES[family])
    mate = target.replace(lr=target.lr * 4)
    solo = train(target, 7, keep_params=True)
    first, _, last = run_population([target, mate, target], [7, 3, 7], keep_params=True)
    assert_same_run(first, solo)
    assert_same_run(last, solo)


@pytest.mark.slow
@pytest.mark.parametrize("isa", ["AVX2", "SSE4_2"])
def test_invariance_holds_with_another_instruction_set(isa):
    """XLA's CPU kernels are chosen by instruction set (``--xla_cpu_max_isa``): with SSE4.2 the
    numbers themselves change (docs/PERFORMANCE.md), and grouping invariance must still hold
    exactly. AVX2 stands for the CPUs without AVX-512."""
    env = {**os.environ, "XLA_FLAGS": f"--xla_cpu_max_isa={isa}"}
    test = f"{__file__}::test_member_is_bitwise_its_solo_run[off_policy]"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:]


def test_member_tile_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(MEMBER_TILE_ENV, raising=False)
    assert member_tile() == 1
    monkeypatch.setenv(MEMBER_TILE_ENV, "0")
    assert member_tile() == 0
    monkeypatch.setenv(MEMBER_TILE_ENV, "two")
    with pytest.raises(ValueError, match=MEMBER_TILE_ENV):
        member_tile()
