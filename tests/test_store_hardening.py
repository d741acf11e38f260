"""Stores and output paths from the adversarial audit (issue 16): nothing already written is
lost or overwritten, damaged or foreign stores are one line naming the store, and a damaged
run is never trusted as complete."""

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from coagentnet.cli import main
from coagentnet.sweeps.store import Store
from coagentnet.sweeps.sweepfile import load
from conftest import refused, tree

from sweep_fakes import THREE_RUNS as SWEEP
from sweep_fakes import TRAINER as FAKE


def ids(sweep_path):
    return [r.id for r in load(sweep_path).runs]


# --- data loss ----------------------------------------------------------------------------


def test_export_never_overwrites_the_store(finished_sweep, capsys):
    path, store = finished_sweep
    refused(
        capsys,
        ["export", str(path), "--out", str(store)],
        "would overwrite the store",
        finished_sweep[1].parent.parent,
    )
    csv_store = store.with_suffix(".csv")
    shutil.copy(store, csv_store)
    refused(
        capsys,
        ["export", str(path), "--store", str(csv_store)],
        "would overwrite",
        store.parent.parent,
    )
    with Store(csv_store, readonly=True) as st:
        assert st.complete_ids() == set(ids(path))


def test_sweep_end_checkpoints_the_wal_for_an_open_reader(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COAGENTNET_TRAINER", FAKE)
    path = tmp_path / "s.yaml"
    path.write_text(SWEEP)
    store = tmp_path / "results" / "s.sqlite"
    assert main(["sweep", str(path), "--dry-run"]) == 0
    Store(store).close()  # the store exists; a reader opens it and stays open
    reader = sqlite3.connect(store)
    reader.execute("SELECT count(*) FROM runs").fetchone()
    try:
        assert main(["sweep", str(path), "--no-progress"]) == 0
        copy = tmp_path / "copy.sqlite"
        shutil.copy(store, copy)  # the .sqlite file alone, as a user would copy it
    finally:
        reader.close()
    with Store(copy, readonly=True) as st:
        assert st.complete_ids() == set(ids(path))


# --- damaged and foreign stores -------------------------------------------------------------


def _junk_pages(store: Path):
    data = bytearray(store.read_bytes())
    data[100:] = os.urandom(len(data) - 100)
    store.write_bytes(bytes(data))


def _sql(statement):
    def damage(store: Path):
        db = sqlite3.connect(store)
        db.execute(statement)
        db.commit()
        db.close()

    return damage


DAMAGE = {
    "junk pages": (_junk_pages, ""),
    "schema_version not an int": (
        _sql("UPDATE meta SET value = 'one' WHERE key = 'schema_version'"),
        "schema_version is 'one', not an integer",
    ),
    "dropped metrics table": (_sql("DROP TABLE metrics"), "table missing from 'metrics'"),
    "dropped runs table": (_sql("DROP TABLE runs"), "table missing from 'runs'"),
    "bad config JSON": (_sql("UPDATE runs SET config = '{oops'"), "has a bad 'config'"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
@pytest.mark.parametrize("verb", ["status", "sweep", "export", "report"])
def test_damaged_store_is_one_line_naming_it(finished_sweep, capsys, case, verb):
    path, store = finished_sweep
    damage, needle = DAMAGE[case]
    damage(store)
    if case == "bad config JSON" and verb in ("status", "sweep"):
        return  # these read the status columns only: see the tests below
    argv = [verb, str(store)] if verb == "report" else [verb, str(path)]
    err = refused(capsys, argv, needle, store.parent.parent)
    assert "results/s.sqlite" in err


@pytest.mark.parametrize(
    "damage",
    [
        _sql("UPDATE runs SET final = 'not json' WHERE rowid = 1"),
        _sql("UPDATE runs SET final = '[1, 2]' WHERE rowid = 1"),
        _sql("DELETE FROM metrics WHERE run = (SELECT id FROM runs WHERE rowid = 1)"),
    ],
    ids=["bad final", "final not an object", "no metrics"],
)
def test_a_damaged_run_is_not_complete_and_is_run_again(finished_sweep, capsys, damage):
    path, store = finished_sweep
    damage(store)
    assert main(["status", str(path)]) == 0
    assert "done 2, running 0, pending 1," in capsys.readouterr().out
    assert main(["sweep", str(path), "--no-progress"]) == 0
    assert "1 done" in capsys.readouterr().err
    with Store(store, readonly=True) as st:
        assert st.complete_ids() == set(ids(path))
        assert all(st.metrics(i) for i in ids(path))


def test_junk_timings_json(finished_sweep, capsys):
    _, store = finished_sweep
    (store.parent / "timings.json").write_text("{not json")
    refused(
        capsys, ["report", str(store)], "timings.json: not a readable timings file", store.parent
    )


def test_foreign_sqlite_database_is_refused_unchanged(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COAGENTNET_TRAINER", FAKE)
    (tmp_path / "s.yaml").write_text(SWEEP)
    foreign = tmp_path / "other.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE photos(name TEXT)")
    db.commit()
    db.close()
    argv = ["sweep", "s.yaml", "--store", str(foreign)]
    refused(capsys, argv, "not a coagentnet results store (it has photos)", tmp_path)
    assert [r[0] for r in sqlite3.connect(foreign).execute("SELECT name FROM sqlite_master")] == [
        "photos"
    ]


def test_status_on_a_missing_store(finished_sweep, capsys):
    path, store = finished_sweep
    refused(
        capsys,
        ["status", str(path), "--store", "typo.sqlite"],
        "no results: typo.sqlite",
        store.parent.parent,
    )


# --- valid stores that were refused ---------------------------------------------------------


@pytest.mark.parametrize("odd", ["a#b", "a?b", "a%20b", "100%"])
def test_store_path_with_uri_characters(finished_sweep, capsys, odd):
    path, store = finished_sweep
    folder = store.parent.parent / odd
    folder.mkdir()
    moved = folder / "s.sqlite"
    shutil.copy(store, moved)
    before = tree(store.parent.parent)
    assert main(["status", str(path), "--store", str(moved)]) == 0
    assert "done 3" in capsys.readouterr().out
    assert tree(store.parent.parent) == before  # no stray file made by a cut-off URI


def test_reader_of_a_brand_new_store_waits_for_its_schema(tmp_path):
    path = tmp_path / "new.sqlite"
    path.touch()  # the file exists, its schema not yet: what a reader can see at first

    def writer():
        time.sleep(0.3)
        Store(path).close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with Store(path, readonly=True) as st:
            assert st.counts() == dict.fromkeys(st.counts(), 0)
    finally:
        thread.join()


def test_wal_store_in_a_folder_the_reader_cannot_write(finished_sweep, monkeypatch):
    path, store = finished_sweep
    real = sqlite3.connect

    def connect(target, *args, **kwargs):  # as in a read-only folder: no -shm can be made
        if isinstance(target, str) and "mode=ro" in target and "immutable=1" not in target:
            db = real(target, *args, **kwargs)
            db.close()
            raise sqlite3.OperationalError("unable to open database file")
        return real(target, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    with Store(store, readonly=True) as st:
        assert st.complete_ids() == set(ids(path))


# --- a full disk ---------------------------------------------------------------------------


def test_disk_full_during_a_sweep_is_one_line_and_keeps_finished_runs(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COAGENTNET_TRAINER", FAKE)
    text = SWEEP.replace("[0.01, 0.02, 0.03]", str([0.01 * i for i in range(1, 41)]))
    text = text.replace("epochs: 1", "epochs: 30")  # 31 metric rows a run: the disk fills
    (tmp_path / "s.yaml").write_text(text + "population: {max_size: 1}\n")
    setup = Store._setup

    def small_disk(self):  # SQLite reports SQLITE_FULL once the file reaches this size
        setup(self)
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        self._db.execute(f"PRAGMA max_page_count = {pages + 20}")

    monkeypatch.setattr(Store, "_setup", small_disk)
    assert main(["sweep", "s.yaml", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert err.splitlines()[-1] == (  # after the sweep's own first line, one error line
        "coagentnet sweep: error: store results/s.sqlite: database or disk is full; "
        "runs finished before this are intact, and a later sweep resumes"
    )
    monkeypatch.setattr(Store, "_setup", setup)
    with Store("results/s.sqlite", readonly=True) as st:
        finished = st.complete_ids()
        assert finished and all(st.metrics(i) for i in finished)


# --- output paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["export", "{sweep}", "--out", "{folder}"], "is a folder, expected a file path"),
        (["export", "{sweep}", "--out", "{file}/x.csv"], "is a file, cannot make a folder"),
        (["export", "{sweep}", "--out", "/proc/x.csv"], "--out: cannot write in /proc"),
        (["report", "{store}", "--out", "{file}"], "--out: {file} is a file, expected a folder"),
        (["report", "{store}", "--out", "/proc/x"], "--out: cannot write in /proc"),
        (["reproduce", "all", "--out", "/proc/x"], "--out: cannot write in /proc"),
        (["bench", "--json", "/proc/x.json"], "--json: cannot write in /proc"),
        (["bench", "--json", "{folder}"], "--json: {folder} is a folder"),
        (["bench", "--populations", "1,,2"], "--populations: expected comma-separated integers"),
        (["export", "{sweep}", "--store", ""], "--store: empty path"),
    ],
)
def test_unwritable_outputs_are_refused_first(finished_sweep, capsys, argv, needle):
    path, store = finished_sweep
    root = store.parent.parent
    (root / "folder").mkdir()
    (root / "afile").write_text("keep")
    names = {"sweep": path, "store": store, "folder": root / "folder", "file": root / "afile"}
    argv = [a.format(**names) for a in argv]
    start = time.perf_counter()
    refused(capsys, argv, needle.format(**names), root)
    assert time.perf_counter() - start < 30  # bench: refused before measuring anything


def test_export_into_a_missing_folder_creates_it(finished_sweep, capsys):
    path, store = finished_sweep
    out = store.parent.parent / "new" / "deep" / "m.csv"
    assert main(["export", str(path), "--out", str(out)]) == 0
    assert out.exists() and out.with_name("m.runs.csv").exists()
