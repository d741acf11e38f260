"""Checkpoints: a population interrupted mid-way resumes to bitwise the uninterrupted numbers;
a checkpoint of another population, code version or a corrupt file is ignored, never trusted."""

import numpy as np
import pytest

from coagentnet.config import Config
from coagentnet.training.checkpoint import Checkpointer, check_writable, population_key
from coagentnet.training.run import run_population

CFG = Config(dataset="digits", rule="off_policy", baseline="ema", layers=2, units=8,
             epochs=5, batch_size=64, lr=2.0**-6)
PRETRAIN = Config(dataset="boston", normalize=True, rule="reinforce", layers=1, units=8,
                  unit_type="gaussian", pretrain_epochs=3, epochs=3, lr=2.0**-7)


class Killed(Exception):
    """Stands for the process being killed after some chunks."""


def _run(configs, seeds, checkpoint=None, kill_after=None):
    done = [0]

    def progress(updates):
        done[0] += 1
        if kill_after is not None and done[0] >= kill_after:
            raise Killed

    return run_population(configs, seeds, checkpoint=checkpoint, progress=progress,
                            keep_params=True)


def _same(a, b):
    assert a.metrics == b.metrics and a.final == b.final and a.diverged == b.diverged
    for x, y in zip(a.params["hidden"] + (a.params["readout"],),
                    b.params["hidden"] + (b.params["readout"],), strict=True):
        np.testing.assert_array_equal(x["w"], y["w"])
        np.testing.assert_array_equal(x["b"], y["b"])


@pytest.mark.parametrize("cfg", [CFG, pytest.param(PRETRAIN, marks=pytest.mark.slow)],
                         ids=["off_policy", "pretraining"])
def test_resumed_population_is_bitwise_the_uninterrupted_one(cfg, tmp_path):
    configs, seeds = [cfg, cfg.replace(lr=cfg.lr * 2)], [1, 2]
    reference = _run(configs, seeds)
    key = population_key(configs, seeds)
    # Killed after 2 chunks, then after 4 (pretraining: inside either phase), then finished.
    for kill_after in (2, 4):
        with pytest.raises(Killed):
            _run(configs, seeds, Checkpointer(tmp_path, "pop", key, interval_s=0), kill_after)
    resumed = _run(configs, seeds, Checkpointer(tmp_path, "pop", key, interval_s=0))
    for a, b in zip(resumed, reference, strict=True):
        _same(a, b)


def test_checkpoint_of_other_configs_or_corrupt_is_ignored_with_a_warning(tmp_path):
    configs, seeds = [CFG.replace(epochs=3)], [1]
    reference = _run(configs, seeds)
    other = [CFG.replace(epochs=3, lr=2.0**-9)]
    with pytest.raises(Killed):
        other_key = population_key(other, seeds)
        _run(other, seeds, Checkpointer(tmp_path, "pop", other_key, interval_s=0), 2)
    warnings = []
    mine = Checkpointer(tmp_path, "pop", population_key(configs, seeds), warn=warnings.append)
    _same(_run(configs, seeds, mine)[0], reference[0])
    assert len(warnings) == 1 and "ignored" in warnings[0] and "other configs" in warnings[0]
    mine.path.write_bytes(b"PK\x03\x04 not a zip file")
    _same(_run(configs, seeds, mine)[0], reference[0])
    assert len(warnings) == 2 and "unreadable" in warnings[1]
    mine.clear()
    assert not mine.path.exists()


def test_unwritable_checkpoint_directory_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match="cannot write checkpoints"):
        check_writable(blocker / "checkpoints")
