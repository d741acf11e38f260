"""Small stores: metrics are stored one curve a row (schema 2), a few bytes a value, with every
number read back as written; a schema-1 store is still read and written in its own format; a
finished population's checkpoint is deleted once its runs are stored."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from coagentnet.cli import main
from coagentnet.config import Config
from coagentnet.sweeps import store as store_module
from coagentnet.sweeps.plan import make_run
from coagentnet.sweeps.store import Store
from coagentnet.sweeps.store_series import pack, unpack

import sweep_fakes

#: Checkpoint files the checkpointing fake trainer wrote (it records them for the test).
WRITTEN: list[Path] = []


def train_and_checkpoint(configs, seeds, *, checkpoint=None, **kwargs):
    """``sweep_fakes.train_population`` that leaves a checkpoint file, as a real population
    does at its evaluations."""
    if checkpoint is not None:
        checkpoint.path.parent.mkdir(parents=True, exist_ok=True)
        checkpoint.path.write_bytes(b"a checkpoint")
        WRITTEN.append(checkpoint.path)
    return sweep_fakes.train_population(configs, seeds, **kwargs)


def test_curves_round_trip_bit_for_bit():
    values = [0.1, -0.0, 1e-310, math.inf, -math.inf, 2.0**-149, 0.30000001192092896, math.nan]
    rows = [(10 * i, "test", "accuracy", None, v) for i, v in enumerate(values)]
    rows += [(7, "train", "entropy", 2, 0.5), (0, "train", "entropy", 2, 0.25)]
    (acc, ent) = pack("r", rows)
    got = list(unpack(*acc[1:]))
    assert [r[0] for r in got] == [10 * i for i in range(len(values))]
    for (_, _, _, _, a), b in zip(got[:-1], values[:-1], strict=True):
        assert math.copysign(1, a) == math.copysign(1, b) and (a == b)
    assert got[-1][4] is None  # NaN reads back as None, as from schema 1's REAL column
    assert list(unpack(*ent[1:])) == [
        (0, "train", "entropy", 2, 0.25),
        (7, "train", "entropy", 2, 0.5),
    ]
    with pytest.raises(sqlite3.IntegrityError):
        pack("r", [(1, "test", "loss", None, 0.1), (1, "test", "loss", None, 0.2)])


def _finish_all(store, runs):
    results = sweep_fakes.train_population([r.config for r in runs], [r.seed for r in runs])
    for run, result in zip(runs, results, strict=True):
        assert store.finish(run, result)


def test_a_schema_1_store_keeps_its_format_and_reads_the_same(tmp_path, monkeypatch):
    runs = [make_run(Config(units=8, layers=3, epochs=40), seed) for seed in range(3)]
    with Store(tmp_path / "new.sqlite") as new:
        _finish_all(new, runs)
        rows = {r.id: new.metrics(r.id) for r in runs}
        every = list(new.iter_metrics())
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 1)
    with Store(tmp_path / "old.sqlite") as old:
        _finish_all(old, runs[:2])
    monkeypatch.undo()
    with Store(tmp_path / "old.sqlite") as old:  # reopened by today's code: still schema 1
        _finish_all(old, runs[2:])
        assert {r.id: old.metrics(r.id) for r in runs} == rows
        assert list(old.iter_metrics()) == every
    db = sqlite3.connect(tmp_path / "old.sqlite")
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
    n_values = sum(len(v) for v in rows.values())
    assert db.execute("SELECT count(*) FROM metrics").fetchone() == (n_values,)
    db.close()


def test_a_short_sweeps_store_is_small_per_run_and_leaves_no_checkpoint(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COAGENTNET_TRAINER", f"{__name__}:train_and_checkpoint")
    WRITTEN.clear()
    # 6 runs x 201 evaluations x (1 accuracy + 3 layers' entropy): 4,824 values
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nbase: {units: 4, layers: 3, epochs: 200}\ngrid:\n  lr: [0.01, 0.02, 0.03]\n"
        "seeds: 2\n"
    )
    assert main(["sweep", str(path), "--no-progress"]) == 0
    capsys.readouterr()
    store = tmp_path / "results" / "s.sqlite"
    with Store(store, readonly=True) as st:
        values = sum(len(st.metrics(i)) for i in st.complete_ids())
        assert len(st.complete_ids()) == 6
    assert values == 6 * 201 * 4
    # Schema 1 took about 115 bytes a value (a row and its index entry); the whole file,
    # fixed pages included, now stays under 25 (the fake's values are full float64s: a
    # trainer's float32 values pack tighter still).
    assert store.stat().st_size / values < 25
    assert WRITTEN and not any(p.exists() for p in WRITTEN)  # finished: checkpoints deleted
    assert not list((tmp_path / "results" / "s.sqlite.checkpoints").glob("*.npz"))
