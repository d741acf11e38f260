"""Property (issue 23; input audit 2): any sweep file built from YAML's features (aliases,
merge keys, deep nesting, odd scalars and tags, duplicate keys, alias bombs) and any arrays
and seed given to ``register_dataset`` / ``train`` end in a valid result or a one-line user
error; never a traceback, a hang or a memory blow-up. Each property runs in a child process
under an address-space limit (``fuzz_worker``), bounded by a subprocess timeout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import coagentnet

TESTS = Path(__file__).parent
SRC = Path(coagentnet.__file__).parent.parent


def _run(kind: str, examples: int, limit_mb: int) -> None:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(SRC), str(TESTS)]),
        JAX_PLATFORMS="cpu",
        COAGENTNET_CPU_DEVICES="1",
    )
    code = f"import fuzz_worker; fuzz_worker.main({kind!r}, {examples}, {limit_mb})"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0 and "FUZZ OK" in proc.stdout, proc.stderr[-4000:]


def test_fuzz_sweep_file_yaml():
    _run("yaml", examples=60, limit_mb=1024)


@pytest.mark.slow  # each valid seed trains a (tiny) network
def test_fuzz_register_dataset_and_train():
    _run("api", examples=40, limit_mb=6144)
