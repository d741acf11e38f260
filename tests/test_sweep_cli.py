"""``coagentnet sweep / status / export`` end to end: bad files, resume after SIGKILL, export."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coagentnet.cli import main
from coagentnet.sweeps.store import Store
from coagentnet.sweeps.sweepfile import load
from conftest import assert_refusal, refused

TESTS = str(Path(__file__).parent)
FAKE = "sweep_fakes:train_population"

BAD = {
    "unknown key": ("base:\n  unitz: 8\n", "base.unitz: unknown key; did you mean 'units'?"),
    "wrong type": ("grid:\n  lr: [0.1, abc]\n", "grid.lr[1]: expected float, got str 'abc'"),
    "empty grid": ("grid:\n  lr: []\n", "grid.lr: empty axis; give at least one value"),
    "unknown rule": ("grid:\n  rule: [reinforce, magic]\n", "grid.rule[1]: unknown value 'magic'"),
}


def _write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("verb", ["sweep", "status", "export"])
def test_bad_sweep_files_exit_2_with_one_line(tmp_path, capsys, monkeypatch, case, verb):
    monkeypatch.chdir(tmp_path)
    text, message = BAD[case]
    path = str(_write(tmp_path, text))
    refused(capsys, [verb, path], f"coagentnet {verb}: error: {message}", tmp_path)


def test_bad_sweep_file_exit_code_in_a_real_process(tmp_path):
    path = _write(tmp_path, BAD["unknown rule"][0])
    proc = subprocess.run(
        [sys.executable, "-m", "coagentnet.cli", "sweep", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert_refusal(proc.returncode, proc.stderr, "grid.rule[1]: unknown value 'magic'")


def test_bad_flags_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, "seeds: 1\n")
    assert main(["sweep", str(path), "--workers", "0"]) == 2
    assert main(["sweep", str(path), "--address", "auto"]) == 2
    assert main(["export", str(path)]) == 2  # nothing to export yet
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "coagentnet sweep: error: --workers: must be >= 1, got 0"
    assert lines[1] == "coagentnet sweep: error: --address: only with --backend ray"
    assert lines[2].startswith("coagentnet export: error: no results:")


SLOW_SWEEP = """
name: slow
base: {units: 8, layers: 1, epochs: 4}
grid:
  lr: [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.12]
seeds: 1
population: {max_size: 1}
"""


def _env(sleep):
    env = dict(os.environ, COAGENTNET_TRAINER=FAKE, SWEEP_FAKE_SLEEP=str(sleep))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [TESTS, env.get("PYTHONPATH")]))
    return env


def _complete(path):
    try:
        with Store(path, readonly=True) as store:
            return store.complete_ids()
    except Exception:  # not created yet
        return set()


def _snapshot(path, ids):
    with Store(path, readonly=True) as store:
        rows = {r["id"]: r for r in store.runs(ids)}
        return {i: (rows[i]["finished_at"], rows[i]["final"], store.metrics(i)) for i in ids}


def test_resume_after_sigkill_runs_everything_exactly_once(tmp_path, capsys, monkeypatch):
    sweep_file = _write(tmp_path, SLOW_SWEEP)
    db = tmp_path / "slow.sqlite"
    cmd = [sys.executable, "-m", "coagentnet.cli", "sweep", str(sweep_file), "--store", str(db)]
    proc = subprocess.Popen(
        [*cmd, "--no-progress"],
        env=_env(0.1),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while len(_complete(db)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    done_before = _complete(db)
    ids = [r.id for r in load(sweep_file).runs]
    assert 3 <= len(done_before) < len(ids)
    before = _snapshot(db, done_before)

    # The killed sweep's claim is stale: status reports it pending, not running.
    monkeypatch.chdir(tmp_path)
    assert main(["status", str(sweep_file), "--store", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"done {len(done_before)}, running 0, pending {len(ids) - len(done_before)}," in out

    again = subprocess.run(
        [*cmd, "--no-progress"], env=_env(0), cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert f"{len(ids) - len(done_before)} done, 0 diverged, 0 failed" in again.stderr
    assert _complete(db) == set(ids)
    assert _snapshot(db, done_before) == before  # finished runs untouched
    import sweep_fakes

    with Store(db, readonly=True) as store:
        assert store.counts(ids)["done"] == len(ids)
        assert len(store.runs()) == len(ids)
        for run in load(sweep_file).runs:  # one copy of each metric row, the right values
            expected, _, _ = sweep_fakes.member_metrics(run.config, run.seed)
            assert sorted(store.metrics(run.id), key=str) == sorted(expected, key=str)

    # A third pass has nothing left to do.
    assert main(["sweep", str(sweep_file), "--store", str(db), "--no-progress"]) == 0
    assert "0 to run in 0 populations" in capsys.readouterr().err


FAKE_SWEEP = """
base: {units: 8, layers: 2, epochs: 2}
grid:
  - {lr: [0.01, 0.9]}
  - {units: [13]}
seeds: 2
"""


def test_status_export_and_dry_run_with_fake_trainer(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COAGENTNET_TRAINER", FAKE)
    path = _write(tmp_path, FAKE_SWEEP, "fake.yaml")
    assert main(["sweep", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "6 runs, 0 complete or running, 6 to run in 2 populations" in out
    assert not (tmp_path / "results").exists()

    assert main(["sweep", str(path)]) == 1  # the units=13 runs fail
    err = capsys.readouterr().err
    assert "2 done, 2 diverged, 2 failed" in err and "error: ValueError: units=13" in err
    assert main(["status", str(path)]) == 0
    out = capsys.readouterr().out
    assert "fake: 6 runs: done 2, running 0, pending 0, diverged 2, failed 2" in out
    assert out.count("ValueError: units=13 is unlucky") == 2

    assert main(["export", str(path)]) == 0
    with open(tmp_path / "results" / "fake.csv") as f:
        metrics = list(csv.DictReader(f))
    with open(tmp_path / "results" / "fake.runs.csv") as f:
        runs = list(csv.DictReader(f))
    assert sorted(r["status"] for r in runs) == ["diverged"] * 2 + ["done"] * 2 + ["failed"] * 2
    assert {m["split"] for m in metrics} == {"validation", "training"}
    assert {m["layer"] for m in metrics} == {"", "0", "1"}
    assert len({m["run"] for m in metrics}) == 4


def test_real_sweep_status_export(tmp_path, capsys, monkeypatch):
    pytest.importorskip("coagentnet.training.loop")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COAGENTNET_TRAINER", raising=False)
    path = _write(
        tmp_path,
        "name: tiny\nbase: {dataset: digits, units: 8, epochs: 1, batch_size: 64}\n"
        "grid: {lr: {pow2: [-8, -6, 2]}}\nseeds: 1\n",
    )
    assert main(["sweep", str(path)]) == 0
    assert "2 done, 0 diverged, 0 failed" in capsys.readouterr().err
    assert main(["status", str(path)]) == 0
    assert "tiny: 2 runs: done 2, running 0, pending 0" in capsys.readouterr().out
    fmt = "parquet"
    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        fmt = "csv"
    assert main(["export", str(path), "--format", fmt, "--out", "out/tiny." + fmt]) == 0
    assert (tmp_path / "out" / f"tiny.{fmt}").exists()
    assert (tmp_path / "out" / f"tiny.runs.{fmt}").exists()
    with Store(tmp_path / "results" / "tiny.sqlite", readonly=True) as store:
        (run,) = [r for r in store.runs() if r["config"]["lr"] == 2.0**-8]
        assert run["device"] == "cpu" and run["updates"] > 0 and run["population_size"] == 2
        assert 0.0 <= run["final"]["test/accuracy"] <= 1.0
