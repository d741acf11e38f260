"""The engine's speed paths change no numbers: the once-per-chunk divergence check (with its exact
fallback) and populations split over several devices (every CPU core)."""

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from coagentnet.config import Config
from coagentnet.training.batches import training_data
from coagentnet.training.devices import population_layout
from coagentnet.training.loop import Trainer
from coagentnet.training.members import population_setup


def _population(cfg: Config, lrs: list[float], data):
    trainer = Trainer(cfg, training_data(cfg, data))
    configs = [cfg.replace(lr=lr) for lr in lrs]
    hyper, keys, layout = population_setup(configs, range(len(lrs)), jax.devices()[:1])
    programs = trainer.programs(layout)
    return trainer, programs, hyper, keys, programs.init(keys, hyper)


def _leaves(tree) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


@pytest.mark.slow
def test_fast_chunk_equals_exact_chunk_without_divergence(digits):
    cfg = Config(rule="off_policy", baseline="ema", layers=2, units=8, batch_size=64, epochs=2)
    trainer, programs, hyper, keys, state = _population(cfg, [2.0**-9, 2.0**-6], digits)
    arrays = trainer.train_arrays
    fast, fast_metrics = programs.chunk_fast(state, hyper, keys, 0, arrays)
    exact, exact_metrics = programs.chunk_exact(state, hyper, keys, 0, arrays)
    assert not np.asarray(fast.diverged).any()
    for a, b in zip(_leaves((fast, fast_metrics)), _leaves((exact, exact_metrics)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_member_diverged_in_an_earlier_chunk_stays_frozen(digits):
    cfg = Config(rule="reinforce", optimizer="sgd", layers=1, units=8, batch_size=64, epochs=3)
    trainer, programs, hyper, keys, state = _population(cfg, [2.0**-7, 1e38], digits)
    state, _ = programs.run_chunk(state, hyper, keys, 0, trainer.train_arrays)
    assert np.asarray(state.diverged).tolist() == [False, True]
    frozen = jax.tree.map(lambda x: np.asarray(x[1]), state.params)
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(frozen))  # last finite params
    later, _ = programs.run_chunk(state, hyper, keys, 1, trainer.train_arrays)
    assert np.asarray(later.diverged).tolist() == [False, True]
    for a, b in zip(jax.tree.leaves(frozen), _leaves(later.params), strict=True):
        np.testing.assert_array_equal(a, b[1])


def test_single_device_layout_moves_nothing():
    layout = population_layout(5, jax.devices()[:1])
    tree = {"a": jnp.arange(5)}
    assert layout.padded == 5 and layout.shards == 1
    assert layout.place(tree) is tree and layout.replicate(tree) is tree


SHARDED = """
import json, sys
import jax
jax.config.update("jax_num_cpu_devices", 2)
import numpy as np
from coagentnet.config import Config
from coagentnet.data import load_dataset
from coagentnet.training.devices import population_layout
from coagentnet.training.run import run_population, train

data = load_dataset("digits")
good = Config(rule="reinforce", baseline="ema", optimizer="sgd", layers=2, units=8,
              batch_size=64, epochs=2, lr=2.0**-7)
configs = [good, good.replace(lr=1e38), good.replace(lr=2.0**-5)]
layout = population_layout(3)
pop = run_population(configs, [0, 1, 2], data=data)
solo = [train(c, s, data=data) for c, s in zip(configs, [0, 1, 2])]
values = lambda r: [row[-1] for row in r.metrics]
print(json.dumps({
    "devices": len(jax.devices()), "shards": layout.shards, "padded": layout.padded,
    "diverged": [r.diverged for r in pop], "solo_diverged": [r.diverged for r in solo],
    "pop": [values(r) for r in pop], "solo": [values(r) for r in solo],
    "keys": [[row[:4] for row in r.metrics] == [row[:4] for row in s.metrics]
             for r, s in zip(pop, solo)],
}))
"""


@pytest.mark.slow
def test_population_split_over_two_cpu_devices_equals_solo_runs():
    out = subprocess.run(
        [sys.executable, "-c", SHARDED], capture_output=True, text=True, check=True, timeout=300
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert (got["devices"], got["shards"], got["padded"]) == (2, 2, 4)  # P = 3 padded to 4
    assert got["diverged"] == got["solo_diverged"] == [False, True, False]
    assert all(got["keys"])
    for i in (0, 2):  # the diverged member's record is checked by test_population
        assert got["pop"][i] == got["solo"][i]  # bitwise: see coagentnet.devices
