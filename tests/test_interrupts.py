"""Ctrl-C and a killed driver (issue 16): one SIGINT, at any moment, ends a sweep with exit 130,
one line, and a store that ``status`` reads; process-pool workers do not outlive a SIGKILLed
driver.

The trials are repeated (22 in all: 18 with a fake trainer, 4 with the real one) because the
failures they guard against were intermittent: a traceback when the signal landed during
imports, an interrupt swallowed by a JAX garbage-collector callback (the sweep then ran on to
exit 0), a segfault at shutdown.
"""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coagentnet.cli import main
from coagentnet.sweeps.store import Store

pytestmark = pytest.mark.slow  # process start-ups

TESTS = str(Path(__file__).parent)
SWEEP = """
name: s
base: {units: 4, layers: 1, epochs: 2}
grid:
  lr: [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08]
seeds: 1
population: {max_size: 1}
"""


def _env(fake: bool) -> dict:
    env = dict(os.environ, SWEEP_FAKE_SLEEP="0.15", COAGENTNET_CPU_DEVICES="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [TESTS, env.get("PYTHONPATH")]))
    if fake:
        env["COAGENTNET_TRAINER"] = "sweep_fakes:train_population"
    else:
        env.pop("COAGENTNET_TRAINER", None)
    return env


def _interrupt(tmp_path: Path, moment: str, delay: float, fake: bool = True, extra=()) -> str:
    """Start a sweep, send one SIGINT at ``moment`` + ``delay`` s; return its stderr."""
    # the real trainer: epochs enough that the sweep is still running when the signal comes
    (tmp_path / "s.yaml").write_text(SWEEP if fake else SWEEP.replace("epochs: 2", "epochs: 2000"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "coagentnet.cli", "sweep", "s.yaml", "--no-progress", *extra],
        cwd=tmp_path,
        env=_env(fake),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = ""
    if moment == "start":
        time.sleep(delay)
    else:  # after the sweep's first line: the store exists and populations are starting
        first = proc.stderr.readline()
        time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    try:
        rest = proc.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    err = first + rest
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if not line.startswith("sweep s:")]
    assert lines == ["coagentnet sweep: interrupted"], err
    return err


def _store_intact(tmp_path: Path, capsys, monkeypatch) -> None:
    store = tmp_path / "results" / "s.sqlite"
    if not store.exists():
        return
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    with Store(store, readonly=True) as st:
        assert all(st.metrics(i) for i in st.complete_ids())  # finished runs are whole
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["status", "s.yaml"]) == 0  # in this process: no JAX start-up per trial
    assert capsys.readouterr().out.startswith("s: 8 runs: ")


TRIALS = (
    [("start", d) for d in (0.15, 0.3, 0.5, 0.7, 0.9, 1.1, 1.5)]  # imports and parsing
    + [("first", d) for d in (0.0, 0.05, 0.1, 0.2, 0.25, 0.3)]  # in the first population
    + [("between", d) for d in (0.5, 0.7, 0.9, 1.2, 1.5)]  # between populations (0.3 s each)
)


def test_sigint_always_exits_130_with_one_line(tmp_path, capsys, monkeypatch):
    random.seed(0)
    for i, (moment, delay) in enumerate(TRIALS):
        trial = tmp_path / f"t{i}"
        trial.mkdir()
        _interrupt(trial, moment, delay + random.uniform(0, 0.05))
        _store_intact(trial, capsys, monkeypatch)


@pytest.mark.parametrize("delay", [0.5, 1.5, 2.5, 3.5])
def test_sigint_with_the_real_trainer(tmp_path, capsys, monkeypatch, delay):
    # JAX loaded and compiling: where the garbage-collector callback swallowed interrupts
    _interrupt(tmp_path, "first", delay, fake=False)
    _store_intact(tmp_path, capsys, monkeypatch)


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"resource_tracker" not in cmdline:
            out.append(int(entry.name))
    return out


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_process_workers_exit_when_the_driver_is_killed(tmp_path):
    (tmp_path / "s.yaml").write_text(SWEEP.replace("epochs: 2", "epochs: 100"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "coagentnet.cli", "sweep", "s.yaml", "--no-progress"]
        + ["--backend", "process", "--workers", "2"],
        cwd=tmp_path,
        env=_env(True),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        workers = _children(proc.pid)
    assert len(workers) >= 2, "the pool's workers did not start"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        alive = [w for w in workers if Path(f"/proc/{w}").exists() and _state(w) != "Z"]
        if not alive:
            break
        time.sleep(0.2)
    assert not alive, f"workers {alive} outlived the driver"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
