"""Checkpoint integrity (issue 23; input audit 2, sections 6 and 7): whatever is found at a
population's checkpoint path (an empty, truncated or forged file, a huge header, a folder, a
FIFO, a link, another population's checkpoint), the population resumes to exactly the numbers
of an undisturbed run, within bounded time, the thing found is moved aside to ``*.corrupt``
with a one-line warning, and nothing blocks."""

from __future__ import annotations

import io
import json
import os
import struct

import numpy as np
import pytest

from coagentnet.config import Config
from coagentnet.training import checkpoint_file
from coagentnet.training.checkpoint import Checkpointer, population_key, population_name
from coagentnet.training.run import run_population
from conftest import alarm_bound

CFG = Config(dataset="digits", layers=1, units=8, epochs=3, batch_size=64)
SEEDS = [0, 1]
IDS = ["run-a", "run-b"]
SECRET = "a" * 64


class Killed(Exception):
    """Stands for the process being killed after some chunks."""


class TimedOut(Exception):
    pass


@pytest.fixture
def bounded():
    """Fail the test (instead of hanging the suite) if it runs past 120 s: the guard against
    a checkpoint read that blocks, not a timing assertion."""

    with alarm_bound(120, TimedOut("test ran past its bound: something blocked")):
        yield


def _checkpointer(directory, ids=IDS, configs=None, secret=SECRET, warn=None):
    configs = configs or [CFG] * len(SEEDS)
    return Checkpointer(
        directory,
        population_name(ids),
        population_key(configs, SEEDS),
        interval_s=0,
        run_ids=ids,
        secret=secret,
        **({"warn": warn} if warn else {}),
    )


def _run(checkpoint=None, kill_after=None, configs=None):
    done = [0]

    def progress(_):
        done[0] += 1
        if kill_after is not None and done[0] >= kill_after:
            raise Killed

    configs = configs or [CFG] * len(SEEDS)
    return run_population(configs, SEEDS, checkpoint=checkpoint, progress=progress)


@pytest.fixture(scope="module")
def reference():
    return [(r.metrics, r.final, r.diverged) for r in _run()]


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory):
    """The bytes of a real checkpoint of the population, saved after its first chunk."""
    folder = tmp_path_factory.mktemp("good")
    ck = _checkpointer(folder)
    with pytest.raises(Killed):
        _run(ck, kill_after=1)
    return ck.path.read_bytes()


def _forged(good: bytes) -> bytes:
    """The good checkpoint's payload, re-signed with another secret (a forger's key)."""
    length = struct.unpack(">I", good[16:20])[0]
    payload = good[20 + length :]
    with np.load(io.BytesIO(payload)) as data:
        arrays = {k: data[k] for k in data.files if k != "meta"}
        meta = json.loads(str(data["meta"]))
    meta["final"] = [{"test/accuracy": 0.999}] * len(SEEDS)
    return checkpoint_file.encode(
        name=population_name(IDS),
        run_ids=IDS,
        key=population_key([CFG] * len(SEEDS), SEEDS),
        secret=b"guessed",
        meta=meta,
        arrays=arrays,
    )


def _swapped(tmp_path) -> bytes:
    """A valid checkpoint, signed with this store's secret, of another population."""
    other_ids = ["run-c", "run-d"]
    other = [CFG.replace(lr=CFG.lr / 2)] * len(SEEDS)
    ck = _checkpointer(tmp_path / "other", ids=other_ids, configs=other)
    with pytest.raises(Killed):
        _run(ck, kill_after=1, configs=other)
    return ck.path.read_bytes()


def _link_to_copy(path, good: bytes, tmp) -> None:
    """A link at the checkpoint path to a (good) checkpoint elsewhere."""
    (tmp / "elsewhere.npz").write_bytes(good)
    path.symlink_to(tmp / "elsewhere.npz")


DAMAGE = {
    "empty": lambda p, good, tmp: p.write_bytes(b""),
    "truncated": lambda p, good, tmp: p.write_bytes(good[: len(good) // 2]),
    "extended": lambda p, good, tmp: p.write_bytes(good + b"\0" * 10),
    "bit_flipped": lambda p, good, tmp: p.write_bytes(
        good[:-100] + bytes([good[-100] ^ 1]) + good[-99:]
    ),
    "huge_header": lambda p, good, tmp: p.write_bytes(checkpoint_file.MAGIC + b"\xff" * 4 + b"{"),
    "plain_npy": lambda p, good, tmp: np.save(open(p, "wb"), np.zeros(3)),
    "directory": lambda p, good, tmp: p.mkdir(),
    "fifo": lambda p, good, tmp: os.mkfifo(p),
    "symlink": lambda p, good, tmp: _link_to_copy(p, good, tmp),
    "dev_zero_link": lambda p, good, tmp: p.symlink_to("/dev/zero"),
    "forged": lambda p, good, tmp: p.write_bytes(_forged(good)),
    "swapped": lambda p, good, tmp: p.write_bytes(_swapped(tmp)),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_checkpoint_is_moved_aside_and_the_run_is_exact(
    damage, tmp_path, reference, good_checkpoint, bounded
):
    warnings = []
    ck = _checkpointer(tmp_path / "ck", warn=warnings.append)
    ck.path.parent.mkdir()
    DAMAGE[damage](ck.path, good_checkpoint, tmp_path)
    got = [(r.metrics, r.final, r.diverged) for r in _run(ck)]
    assert got == reference  # exact: restarted from zero, bitwise the undisturbed run
    assert len(warnings) == 1 and "\n" not in warnings[0], warnings
    assert "refused" in warnings[0] and "moved to" in warnings[0]
    assert os.path.lexists(str(ck.path) + ".corrupt")
    ck.clear()
    assert not os.path.lexists(ck.path)


def test_good_checkpoint_resumes_and_the_store_secret_is_needed(
    tmp_path, reference, good_checkpoint, bounded
):
    warnings = []
    ck = _checkpointer(tmp_path, warn=warnings.append)
    ck.path.write_bytes(good_checkpoint)
    got = [(r.metrics, r.final, r.diverged) for r in _run(ck)]
    assert got == reference and warnings == []  # resumed mid-way, to the same numbers
    ck.path.write_bytes(good_checkpoint)
    other_store = _checkpointer(tmp_path, secret="b" * 64, warn=warnings.append)
    assert other_store.load([]) is None and "HMAC" in warnings[0]
