"""The SQLite store: one transaction per run, claims that die with their process, readers."""

import csv
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from coagentnet.config import Config
from coagentnet.sweeps.export import export_tables, write_csv, write_parquet
from coagentnet.sweeps.plan import make_run
from coagentnet.sweeps.store import Store

from sweep_fakes import train_population


def _runs(n=3):
    return [make_run(Config(units=8, layers=2, epochs=2), seed) for seed in range(n)]


def _finish(store, runs):
    results = train_population([r.config for r in runs], [r.seed for r in runs])
    env = {"versions": {"jax": "x"}, "device": "cpu", "host": "h"}
    pairs = zip(runs, results, strict=True)
    return [store.finish(r, res, env=env, population_size=len(runs)) for r, res in pairs]


def test_lifecycle_and_counts(tmp_path):
    runs = _runs(4)
    with Store(tmp_path / "s.sqlite") as store:
        store.add_runs(runs)
        assert store.counts([r.id for r in runs])["pending"] == 4
        assert store.claim([r.id for r in runs[:3]]) == [r.id for r in runs[:3]]
        assert store.counts()["running"] == 3
        assert _finish(store, runs[:1]) == [True]
        store.fail([runs[1].id], "Traceback...\nValueError: boom")
        store.release([runs[2].id])
        counts = store.counts([r.id for r in runs] + ["notinstore"])
        assert counts == {"done": 1, "running": 0, "pending": 3, "diverged": 0, "failed": 1}
        assert store.errors() == {runs[1].id: "Traceback...\nValueError: boom"}
        assert store.complete_ids() == {runs[0].id}
        # A complete run is never claimed or overwritten again.
        assert store.claim([runs[0].id, runs[1].id]) == [runs[1].id]
        before = store.metrics(runs[0].id)
        assert _finish(store, runs[:1]) == [False]
        assert store.metrics(runs[0].id) == before
        rec = store.runs([runs[0].id])[0]
        assert rec["status"] == "done" and rec["device"] == "cpu" and rec["population_size"] == 1
        assert rec["config"]["units"] == 8 and "validation/accuracy" in rec["final"]


def test_metrics_round_trip_with_layers(tmp_path):
    run = _runs(1)[0]
    with Store(tmp_path / "s.sqlite") as store:
        _finish(store, [run])
        rows = store.metrics(run.id)
    expected = train_population([run.config], [run.seed])[0].metrics
    assert sorted(rows, key=str) == sorted(expected, key=str)
    assert any(r[3] is None for r in rows) and any(r[3] == 1 for r in rows)


def test_diverged_is_complete(tmp_path):
    run = make_run(Config(units=8, lr=0.9), 0)
    with Store(tmp_path / "s.sqlite") as store:
        _finish(store, [run])
        assert store.statuses([run.id]) == {run.id: "diverged"}
        assert store.complete_ids() == {run.id}


def test_a_final_value_that_is_not_finite_is_stored_as_null_and_the_run_is_complete(tmp_path):
    import dataclasses

    run = make_run(Config(units=8), 0)
    (result,) = train_population([run.config], [run.seed])
    result = dataclasses.replace(result, final={**result.final, "x/nan": float("nan")})
    with Store(tmp_path / "s.sqlite") as store:
        store.finish(run, result, env={}, population_size=1)
        assert store.statuses([run.id]) == {run.id: "done"}
        (row,) = store.runs()
        assert row["final"]["x/nan"] is None


_CLAIMER = textwrap.dedent(
    """
    import sys, time
    from coagentnet.sweeps.store import Store
    store = Store(sys.argv[1])
    store.claim(sys.argv[2:])
    print("claimed", flush=True)
    time.sleep(60)
    """
)


def test_claims_of_a_live_process_hold_and_of_a_dead_one_lapse(tmp_path):
    path = tmp_path / "s.sqlite"
    runs = _runs(2)
    ids = [r.id for r in runs]
    with Store(path) as store:
        store.add_runs(runs)
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLAIMER, str(path), ids[0]], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "claimed"
        with Store(path) as store:
            assert store.statuses(ids) == {ids[0]: "running", ids[1]: "pending"}
            assert store.claim(ids) == [ids[1]]  # the live process keeps its run
    finally:
        proc.kill()
        proc.wait()
    with Store(path) as store:
        assert store.statuses(ids) == {ids[0]: "pending", ids[1]: "running"}
        assert store.claim(ids) == ids  # our own claim and the dead process's both come back


def test_reader_sees_only_committed_runs_while_writer_is_open(tmp_path):
    path = tmp_path / "s.sqlite"
    runs = _runs(3)
    with Store(path) as writer:
        writer.add_runs(runs)
        assert writer._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        _finish(writer, runs[:1])
        reader = Store(path, readonly=True)
        assert reader.complete_ids() == {runs[0].id}
        # Hold a write transaction open, half written: the reader neither blocks nor sees it.
        writer._db.execute("BEGIN IMMEDIATE")
        writer._db.execute("UPDATE runs SET status = 'done' WHERE id = ?", (runs[1].id,))
        assert reader.complete_ids() == {runs[0].id}
        writer._db.execute("ROLLBACK")
        with pytest.raises(sqlite3.OperationalError):
            reader._db.execute("DELETE FROM runs")
        reader.close()


def test_export_tables_and_files(tmp_path):
    runs = _runs(2)
    with Store(tmp_path / "s.sqlite") as store:
        store.add_runs(runs)
        _finish(store, runs[:1])
        run_rows, metric_rows = export_tables(store, [r.id for r in runs])
    assert [r["status"] for r in run_rows] == ["done", "pending"]
    assert run_rows[0]["units"] == 8 and "final/validation/accuracy" in run_rows[0]
    assert {m["run"] for m in metric_rows} == {runs[0].id}
    assert {"seed", "lr", "step", "split", "metric", "layer", "value"} <= set(metric_rows[0])
    write_csv(metric_rows, tmp_path / "m.csv")
    with open(tmp_path / "m.csv") as f:
        back = list(csv.DictReader(f))
    assert len(back) == len(metric_rows) and back[0]["run"] == runs[0].id
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    write_parquet(metric_rows, tmp_path / "m.parquet")
    frame = pd.read_parquet(tmp_path / "m.parquet")
    assert len(frame) == len(metric_rows) and frame["value"].dtype == float


def test_not_a_store(tmp_path):
    from coagentnet.sweeps.store import StoreError

    bad = tmp_path / "x.sqlite"
    bad.write_text("not sqlite at all, just text" * 100)
    with pytest.raises(StoreError, match="not a coagentnet results store"):
        Store(bad, readonly=True)
