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
