"""Smaller CLI findings of input audit 2 (issue 23): unknown flags name the verb once, -q
silences a sweep's status lines, sweep --save-params says which runs have no parameters, and
status names a run whose stored results are damaged."""

from __future__ import annotations

import sqlite3

import pytest

from coagentnet.cli import main

from sweep_fakes import THREE_RUNS as SWEEP
from sweep_fakes import TRAINER as FAKE


@pytest.fixture
def here(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COAGENTNET_TRAINER", FAKE)
    (tmp_path / "s.yaml").write_text(SWEEP)
    return tmp_path


@pytest.mark.parametrize("verb", ["train", "sweep", "status", "export", "report"])
def test_unknown_flag_names_the_verb_once(capsys, verb):
    with pytest.raises(SystemExit) as exit:
        main([verb, "x.yaml", "--bogus"] if verb != "train" else [verb, "--bogus"])
    err = capsys.readouterr().err
    assert exit.value.code == 2
    assert err == f"coagentnet {verb}: error: unrecognized arguments: --bogus\n"


def test_quiet_sweep_prints_nothing_on_success(here, capsys):
    assert main(["sweep", "s.yaml", "--no-progress", "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_save_params_warns_about_runs_already_complete(here, capsys):
    assert main(["sweep", "s.yaml", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["sweep", "s.yaml", "--no-progress", "--save-params"]) == 0
    err = capsys.readouterr().err
    assert "3 runs were already complete: their parameters were not saved" in err


def test_status_names_a_damaged_run(here, capsys):
    assert main(["sweep", "s.yaml", "--no-progress"]) == 0
    db = sqlite3.connect(here / "results" / "s.sqlite")
    (run_id,) = db.execute("SELECT id FROM runs WHERE rowid = 1").fetchone()
    db.execute("UPDATE runs SET final = '{' WHERE rowid = 1")
    db.commit()
    db.close()
    capsys.readouterr()
    assert main(["status", "s.yaml"]) == 0
    out = capsys.readouterr().out
    assert f"damaged {run_id}" in out and "pending 1" in out
