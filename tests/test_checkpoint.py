"""Checkpoints: a population interrupted mid-way resumes to bitwise the uninterrupted numbers;
a checkpoint of another population, code version or a corrupt file is ignored, never trusted."""

import io
import json
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from coagentnet.config import Config
from coagentnet.sweeps.store import Store
from coagentnet.training.checkpoint import (
    Checkpointer,
    check_writable,
    checkpoint_dir,
    population_key,
)
from coagentnet.training.checkpoint_file import MAGIC
from coagentnet.training.run import run_population
from conftest import assert_refusal, assert_same_run

CFG = Config(
    dataset="digits",
    rule="off_policy",
    baseline="ema",
    layers=2,
    units=8,
    epochs=5,
    batch_size=64,
    lr=2.0**-6,
)
PRETRAIN = Config(
    dataset="boston",
    normalize=True,
    rule="reinforce",
    layers=1,
    units=8,
    unit_type="gaussian",
    pretrain_epochs=3,
    epochs=3,
    lr=2.0**-7,
)


class Killed(Exception):
    """Stands for the process being killed after some chunks."""


def _run(configs, seeds, checkpoint=None, kill_after=None):
    done = [0]

    def progress(updates):
        done[0] += 1
        if kill_after is not None and done[0] >= kill_after:
            raise Killed

    return run_population(
        configs, seeds, checkpoint=checkpoint, progress=progress, keep_params=True
    )


@pytest.mark.slow
@pytest.mark.parametrize("cfg", [CFG, PRETRAIN], ids=["off_policy", "pretraining"])
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
        assert_same_run(a, b)


@pytest.mark.slow
def test_checkpoint_of_other_configs_or_corrupt_is_ignored_with_a_warning(tmp_path):
    configs, seeds = [CFG.replace(epochs=3)], [1]
    reference = _run(configs, seeds)
    other = [CFG.replace(epochs=3, lr=2.0**-9)]
    with pytest.raises(Killed):
        other_key = population_key(other, seeds)
        _run(other, seeds, Checkpointer(tmp_path, "pop", other_key, interval_s=0), 2)
    warnings = []
    mine = Checkpointer(tmp_path, "pop", population_key(configs, seeds), warn=warnings.append)
    assert_same_run(_run(configs, seeds, mine)[0], reference[0])
    assert len(warnings) == 1 and "refused" in warnings[0] and "other configs" in warnings[0]
    mine.path.write_bytes(b"PK\x03\x04 not a zip file")
    assert_same_run(_run(configs, seeds, mine)[0], reference[0])
    assert len(warnings) == 2 and "not a coagentnet checkpoint" in warnings[1]
    mine.clear()
    assert not mine.path.exists()


def test_unwritable_checkpoint_directory_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match="cannot write checkpoints"):
        check_writable(blocker / "checkpoints")


SWEEP = """
name: killed
base: {dataset: digits, rule: off_policy, baseline: ema, layers: 2, units: 16,
       batch_size: 32, epochs: 40, lr: 0.015625}
grid: {lr: [0.015625, 0.0078125]}
seeds: 2
"""


def _sweep_cmd(sweep_file, store, *extra):
    return [
        sys.executable,
        "-m",
        "coagentnet.cli",
        "sweep",
        str(sweep_file),
        "--store",
        str(store),
        "--no-progress",
        *extra,
    ]


def _chunks_saved(directory: Path) -> int:
    """Chunks done in the (one) checkpoint of ``directory``; 0 if none is readable yet."""
    for path in directory.glob("[!.]*.npz"):
        try:
            raw = path.read_bytes()
            start = len(MAGIC) + 4 + int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 4], "big")
            with np.load(io.BytesIO(raw[start:])) as data:
                return json.loads(str(data["meta"]))["chunks"]
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile):
            return 0  # a file still being written by the previous writer
    return 0


@pytest.mark.slow
def test_sweep_killed_at_random_chunks_resumes_to_the_uninterrupted_numbers(tmp_path):
    sweep_file = tmp_path / "killed.yaml"
    sweep_file.write_text(SWEEP)
    reference = tmp_path / "reference.sqlite"
    subprocess.run(
        _sweep_cmd(sweep_file, reference, "--no-checkpoints"),
        check=True,
        capture_output=True,
        timeout=600,
    )
    store = tmp_path / "killed.sqlite"
    directory = checkpoint_dir(store)
    rng = random.Random(20261201)
    # Chunks after which SIGKILL lands: well before the end (a chunk takes milliseconds).
    kills = sorted(rng.sample(range(1, 30), 3))
    seen, codes, listings = [], [], []
    for kill_at in kills:
        proc = subprocess.Popen(
            _sweep_cmd(sweep_file, store, "--checkpoint-every", "0"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while _chunks_saved(directory) < kill_at and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))  # anywhere inside the next chunk
        proc.send_signal(signal.SIGKILL)
        codes.append(proc.wait())
        seen.append(_chunks_saved(directory))
        listings.append(sorted(p.name for p in directory.iterdir()) if directory.is_dir() else [])
    # each resumed, none started over (exit codes: -9 killed, else the sweep ended by itself)
    assert seen == sorted(seen) and seen[0] >= kills[0], (kills, seen, codes, listings)
    subprocess.run(
        _sweep_cmd(sweep_file, store, "--checkpoint-every", "0"),
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert not list(directory.glob("*.npz"))  # finished populations delete their checkpoints
    with Store(reference, readonly=True) as a, Store(store, readonly=True) as b:
        ids = sorted(a.statuses())
        assert sorted(b.statuses()) == ids and set(b.statuses().values()) == {"done"}
        assert [r["final"] for r in a.runs(ids)] == [r["final"] for r in b.runs(ids)]
        for run_id in ids:
            assert a.metrics(run_id) == b.metrics(run_id)  # every row, bitwise


@pytest.mark.slow
def test_sweep_saves_final_parameters_and_refuses_an_unwritable_checkpoint_folder(tmp_path):
    sweep_file = tmp_path / "tiny.yaml"
    sweep_file.write_text(
        "name: tiny\nbase: {dataset: digits, layers: 1, units: 4, epochs: 1,"
        " batch_size: 64}\nseeds: 1\n"
    )
    store = tmp_path / "tiny.sqlite"
    subprocess.run(
        _sweep_cmd(sweep_file, store, "--save-params"), check=True, capture_output=True, timeout=300
    )
    (saved,) = (tmp_path / "tiny.sqlite.params").glob("*.npz")
    with np.load(saved) as data:
        assert data["hidden/0/w"].shape == (64, 4) and data["readout/b"].shape == (10,)
        assert json.loads(str(data["config"]))["config"]["units"] == 4
    blocked = tmp_path / "blocked.sqlite"
    checkpoint_dir(blocked).write_text("a file where the checkpoint folder would go")
    proc = subprocess.run(
        _sweep_cmd(sweep_file, blocked), capture_output=True, text=True, timeout=300
    )
    assert not blocked.exists()
    assert_refusal(proc.returncode, proc.stderr, "cannot write checkpoints")
