"""Nothing already written is lost (issue 23; input audit 2, sections 1, 3, 4, 5, 13, 14, 15
and the extra findings): export and report write every file atomically, never through a link
or over a store; a reader holding the WAL is reported; a store deleted mid-sweep is not a
success."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from coagentnet.cli import main
from coagentnet.sweeps.store import Store
from conftest import refused, tree

import sweep_fakes
from sweep_fakes import THREE_RUNS as SWEEP


def _second_store(tmp_path, sweep) -> Path:
    other = tmp_path / "other" / "b.sqlite"
    assert main(["sweep", str(sweep), "--store", str(other), "--no-progress"]) == 0
    return other


# --- section 1 and 15: never over a store, never through a link ------------------------------


def test_export_onto_another_store_is_refused(finished_sweep, capsys, tmp_path):
    sweep, store = finished_sweep
    other = _second_store(tmp_path, sweep)
    capsys.readouterr()
    refused(capsys, ["export", str(store), "--out", str(other)], "SQLite database", tmp_path)
    with Store(other, readonly=True) as st:
        assert len(st.complete_ids()) == 3


@pytest.mark.parametrize("verb", ["export", "report"])
def test_output_through_a_symlink_is_refused(finished_sweep, capsys, tmp_path, verb):
    _, store = finished_sweep
    victim = tmp_path / "elsewhere" / "notes.txt"
    victim.parent.mkdir()
    victim.write_text("precious notes")
    if verb == "export":
        (tmp_path / "out.csv").symlink_to(victim)
        argv = ["export", str(store), "--out", str(tmp_path / "out.csv")]
    else:
        (tmp_path / "rep").mkdir()
        (tmp_path / "rep" / "report.html").symlink_to(victim)
        argv = ["report", str(store), "--out", str(tmp_path / "rep")]
    refused(capsys, argv, "symbolic link", tmp_path)
    assert victim.read_text() == "precious notes"


# --- sections 5 and 13: interrupted or failing writes leave the previous files -----------------


@pytest.mark.parametrize("failure", ["interrupt", "disk_full"])
def test_failed_export_leaves_the_previous_files_and_no_temporary(
    finished_sweep, capsys, tmp_path, monkeypatch, failure
):
    _, store = finished_sweep
    out = tmp_path / "x.csv"
    assert main(["export", str(store), "--out", str(out)]) == 0
    before = tree(tmp_path)
    from coagentnet.sweeps import export

    real = export.write_csv

    def dies_half_way(rows, path):
        real(rows, path)
        with open(path, "a") as f:
            f.write("partial")
        if failure == "interrupt":
            raise KeyboardInterrupt
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export, "write_csv", dies_half_way)
    capsys.readouterr()
    if failure == "interrupt":
        assert main(["export", str(store), "--out", str(out)]) == 130
    else:
        err = refused(capsys, ["export", str(store), "--out", str(out)], "No space left")
        assert "x.csv" in err, err
    assert tree(tmp_path) == before  # both files as they were, nothing else left


def test_export_of_a_store_with_configs_of_other_fields(finished_sweep, capsys, tmp_path):
    """Audit 13: a run whose config has other fields (an older store) exported, no traceback."""
    _, store = finished_sweep
    db = sqlite3.connect(store)
    db.execute("""UPDATE runs SET config = '{"units": "x"}' WHERE rowid = 1""")
    db.commit()
    db.close()
    assert main(["export", str(store), "--out", str(tmp_path / "e.csv")]) == 0
    assert (tmp_path / "e.runs.csv").read_text().count("\n") == 4


def test_report_of_a_store_with_configs_of_other_fields(finished_sweep, capsys, tmp_path):
    """Audit 2 #13, replayed by scripts/audit.py: report gave a TypeError traceback (sorting
    a NaN dataset, from a config without that field, among the names)."""
    _, store = finished_sweep
    db = sqlite3.connect(store)
    db.execute("""UPDATE runs SET config = '{"units": "x"}' WHERE rowid = 1""")
    db.commit()
    db.close()
    assert main(["report", str(store), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "report.html").exists()


def test_damaged_versions_is_one_line(finished_sweep, capsys, tmp_path):
    _, store = finished_sweep
    db = sqlite3.connect(store)
    db.execute("UPDATE runs SET versions = '{' WHERE rowid = 1")
    db.commit()
    db.close()
    refused(capsys, ["report", str(store), "--out", str(tmp_path / "r")], "'versions'", tmp_path)


# --- extra finding and section 14: report --out writes only under DIR, escapes Markdown -------


def test_report_writes_only_into_out_and_escapes_markdown(finished_sweep, capsys, tmp_path):
    _, store = finished_sweep
    odd = tmp_path / "x14" / "<img src=x onerror=alert(1)>.sqlite"
    odd.parent.mkdir()
    shutil.copy(store, odd)
    before = tree(tmp_path / "x14")
    assert main(["report", str(odd), "--out", str(tmp_path / "rep")]) == 0
    assert tree(tmp_path / "x14") == before  # nothing beside the store (WAL files aside)
    summary = (tmp_path / "rep" / "summary.md").read_text()
    assert "<img" not in summary and "&lt;img" in summary
    assert list((tmp_path / "rep" / "figures").glob("*.png"))
    assert not list((tmp_path / "rep").rglob(".*tmp*"))


# --- section 3: a reader holding a transaction is reported --------------------------------------


def test_wal_left_by_a_reader_is_a_warning(finished_sweep, capsys, tmp_path):
    sweep, store = finished_sweep
    reader = sqlite3.connect(store, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM runs").fetchone()
    try:
        more = tmp_path / "more.yaml"
        more.write_text(SWEEP.replace("0.03]", "0.03, 0.04]"))
        assert main(["sweep", str(more), "--store", str(store), "--no-progress"]) == 0
    finally:
        reader.close()
    err = capsys.readouterr().err
    assert "-wal" in err and "copying" in err, err


# --- section 4: the store deleted mid-sweep ----------------------------------------------------


def deleting_trainer(configs, seeds, **kwargs):
    """The fake trainer; its second population first deletes the store's folder."""
    deleting_trainer.calls = getattr(deleting_trainer, "calls", 0) + 1
    if deleting_trainer.calls == 2:
        shutil.rmtree(os.environ["TEST_STORE_FOLDER"])
    return sweep_fakes.train_population(configs, seeds, **kwargs)


def test_store_deleted_mid_sweep_is_not_a_success(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COAGENTNET_TRAINER", "test_outputs:deleting_trainer")
    monkeypatch.setenv("TEST_STORE_FOLDER", str(tmp_path / "gone"))
    deleting_trainer.calls = 0
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SWEEP)
    store = tmp_path / "gone" / "s.sqlite"
    code = main(
        ["sweep", str(sweep), "--store", str(store), "--max-population", "1", "--no-progress"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "deleted or replaced" in err, err
    assert not (tmp_path / "gone").exists()  # checkpoints did not make the folder again


@pytest.mark.parametrize(
    "message",
    ["attempt to write a readonly database", "disk I/O error", "database or disk is full"],
)
def test_a_store_that_cannot_be_written_is_not_called_foreign(tmp_path, message):
    """Audit 13: a read-only or full store was 'not a coagentnet results store'."""
    from coagentnet.sweeps.store_schema import cannot_open

    err = cannot_open(tmp_path / "s.sqlite", sqlite3.OperationalError(message))
    assert "cannot write it" in str(err) and "not a coagentnet" not in str(err)
