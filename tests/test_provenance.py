"""Provenance per run: package versions, git commit, devices, and the sweep file's hash, as
recorded in a store and shown by the report."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jax
import jaxlib
import numpy as np
import optax

import coagentnet
from coagentnet.config import Config
from coagentnet.reproduce.report import _versions
from coagentnet.sweeps.backends import environment
from coagentnet.sweeps.plan import make_run
from coagentnet.sweeps.provenance import file_sha256, git_commit, note_sweep_file, sweep_files
from coagentnet.sweeps.store import Store
from coagentnet.training.results import RunResult


def test_environment_records_versions_commit_and_devices():
    git_commit.cache_clear()  # cached per process: read the checkout as it is now
    env = environment()
    v = env["versions"]
    assert v["coagentnet"] == coagentnet.__version__
    assert (v["jax"], v["jaxlib"], v["optax"], v["numpy"]) == (
        jax.__version__, jaxlib.__version__, optax.__version__, np.__version__,
    )  # fmt: skip
    assert v["device_count"] == str(len(jax.devices()))
    assert v["device_kind"] == jax.devices()[0].device_kind
    src = Path(coagentnet.__file__).parent
    head = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True,
                          text=True)  # fmt: skip
    if head.returncode == 0:  # run from a checkout (as in CI): its commit is recorded
        assert v["git"].split("+")[0] == head.stdout.strip()


def test_the_report_shows_the_provenance_of_a_store(tmp_path):
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text("base: {units: 4}\nseeds: 1\n")
    path = tmp_path / "s.sqlite"
    cfg = Config(units=4)
    with Store(path) as store:
        run = make_run(cfg, 0)
        store.add_runs([run])
        store.finish(run, RunResult(cfg, 0, False, final={"test/accuracy": 0.5}),
                     env=environment())  # fmt: skip
        digest = note_sweep_file(store, sweep_file)
        assert sweep_files(store) == {digest: str(sweep_file)}
    assert digest == file_sha256(sweep_file)
    shown = _versions(path)
    for key in ("jaxlib", "optax", "git", "device_kind", "device_count"):
        assert f"{key} (training)" in shown, key
    assert shown["sweep file sha256"] == f"{digest[:16]} (s.yaml)"


def test_environment_records_the_cpu():
    """Issue 23: CPU results' bits depend on the CPU; every run records which it was."""
    v = environment()["versions"]
    for key in ("cpu_model", "cpu_isa", "cpu_caches", "cpu_count", "xla_flags"):
        assert isinstance(v[key], str) and v[key], key
    assert int(v["cpu_count"]) >= 1
