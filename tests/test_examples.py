"""The examples run (tiny settings) and write their figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(script: str, tmp_path: Path, *args: str) -> str:
    env = {**os.environ, "COAGENTNET_CPU_DEVICES": "1"}
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--tiny", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.slow  # three rules, each compiled
def test_custom_rule_example(tmp_path):
    out = _run("custom_rule.py", tmp_path, "--out", "rule.png")
    assert "avg_reinforce (per-unit): final test accuracy" in out
    assert (tmp_path / "rule.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow  # trains a store first
def test_store_to_pandas_example(tmp_path):
    out = _run("store_to_pandas.py", tmp_path, "--out", "lr.png")
    assert (tmp_path / "store_to_pandas.sqlite").exists() and "wrote lr.png" in out
    assert out.count("reinforce") == 6  # 3 learning rates x 2 seeds in the runs frame
    assert (tmp_path / "lr.png").read_bytes()[:4] == b"\x89PNG"


FAKE_WANDB = """
import json, os
class _Run:
    def __init__(self, **kw):
        self.name, self.summary, self.rows, self.kw = kw["name"], {}, [], kw
    def log(self, values, step):
        assert all(isinstance(v, float) for v in values.values())
        self.rows.append(step)
    def finish(self):
        with open("fake_wandb.jsonl", "a") as f:
            f.write(json.dumps({"name": self.name, "mode": self.kw["mode"],
                                "lr": self.kw["config"]["lr"], "steps": self.rows}) + "\\n")
def init(**kw):
    return _Run(**kw)
"""


@pytest.mark.slow  # trains a population
def test_wandb_example_logs_one_offline_run_per_network(tmp_path):
    """With a stand-in ``wandb`` module (the real one is optional): the calls it makes."""
    import json

    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "wandb.py").write_text(FAKE_WANDB)
    env = {**os.environ, "COAGENTNET_CPU_DEVICES": "1", "PYTHONPATH": os.pathsep.join(
        filter(None, [str(fake), os.environ.get("PYTHONPATH")]))}  # fmt: skip
    argv = [sys.executable, str(EXAMPLES / "wandb_sweep.py"), "--tiny"]
    out = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    runs = [json.loads(line) for line in (tmp_path / "fake_wandb.jsonl").read_text().splitlines()]
    assert len(runs) == 6 and {r["mode"] for r in runs} == {"offline"}
    assert all(r["steps"] == sorted(r["steps"]) and len(r["steps"]) == 2 for r in runs)


@pytest.mark.slow  # trains a population
def test_wandb_example_with_wandb(tmp_path):
    pytest.importorskip("wandb", reason="wandb is not installed (an optional extra)")
    env = {**os.environ, "WANDB_SILENT": "true"}
    _run_env = subprocess.run(
        [sys.executable, str(EXAMPLES / "wandb_sweep.py"), "--tiny"],
        cwd=tmp_path, env={**env, "COAGENTNET_CPU_DEVICES": "1"}, capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    assert _run_env.returncode == 0, _run_env.stderr[-2000:]
    assert len(list((tmp_path / "wandb").glob("offline-run-*"))) == 6
