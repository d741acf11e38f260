"""Backends and the driver: grouping invariance, failures, process pool and Ray agree."""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from coagentnet.sweeps.backends import (
    LocalBackend,
    ProcessBackend,
    RayBackend,
    run_population,
)
from coagentnet.sweeps.execute import execute
from coagentnet.sweeps.plan import Population, plan
from coagentnet.sweeps.store import Store
from coagentnet.sweeps.sweepfile import parse

import sweep_fakes

FAKE = "sweep_fakes:train_population"
TESTS = str(Path(__file__).parent)


def _sweep(**base):
    return parse(
        {
            "base": {"units": 8, "layers": 2, "epochs": 3, "unit_type": "gaussian", **base},
            "grid": {"lr": [0.01, 0.02, 0.9], "unit_std": [1.0, 2.0]},
            "seeds": 3,
        }
    )


def _dump(path, ids):
    """Everything a sweep stored that must not depend on how it ran."""
    with Store(path, readonly=True) as store:
        status = store.statuses(ids)
        runs = {r["id"]: (r["status"], r["final"], r["updates"]) for r in store.runs(ids)}
        return status, runs, {i: store.metrics(i) for i in ids}


def _execute(path, runs, backend, **plan_args):
    with Store(path) as store, backend:
        return execute(store, plan(runs, **plan_args), backend)


class _Progress:
    def __init__(self):
        self.n_updates, self.n_runs = 0, 0

    def updates(self, n):
        self.n_updates += n

    def runs(self, n):
        self.n_runs += n


def test_grouping_does_not_change_results(tmp_path):
    sweep = _sweep()
    ids = [r.id for r in sweep.runs]
    one = _execute(tmp_path / "one.sqlite", sweep.runs, LocalBackend(FAKE), max_population=1)
    allin = _execute(tmp_path / "all.sqlite", sweep.runs, LocalBackend(FAKE))
    assert (one.done, one.diverged, one.failed) == (12, 6, 0)
    assert (allin.done, allin.diverged) == (12, 6)
    assert _dump(tmp_path / "one.sqlite", ids) == _dump(tmp_path / "all.sqlite", ids)
    with Store(tmp_path / "all.sqlite", readonly=True) as store:
        sizes = {r["population_size"] for r in store.runs()}
    assert sizes == {18}  # lr and unit_std are population scalars: one population


def test_progress_counts_updates_of_all_members(tmp_path):
    sweep = _sweep()
    progress = _Progress()
    with Store(tmp_path / "s.sqlite") as store:
        execute(store, plan(sweep.runs), LocalBackend(FAKE), progress=progress)
    assert progress.n_runs == 18
    assert progress.n_updates == 18 * 3 * sweep_fakes.UPDATES_PER_EPOCH


def test_failed_population_is_recorded_and_the_sweep_goes_on(tmp_path):
    sweep = parse({"base": {"epochs": 1}, "grid": {"units": [13, 8]}, "seeds": 2})
    with Store(tmp_path / "s.sqlite") as store:
        summary = execute(store, plan(sweep.runs), LocalBackend(FAKE))
        assert (summary.done, summary.failed) == (2, 2)
        assert summary.errors == ["ValueError: units=13 is unlucky"]
        errors = store.errors()
        assert len(errors) == 2
        assert all(e.splitlines()[-1] == "ValueError: units=13 is unlucky" for e in errors.values())
        # A second pass retries only the failed runs.
        again = execute(store, plan(sweep.runs), LocalBackend(FAKE))
        assert (again.done, again.failed, again.skipped) == (0, 2, 2)


def test_interrupt_gives_claims_back(tmp_path):
    sweep = _sweep()

    def interrupted(configs, seeds, progress=None):
        raise KeyboardInterrupt

    with Store(tmp_path / "s.sqlite") as store:
        store.add_runs(sweep.runs)
        with pytest.raises(KeyboardInterrupt):
            execute(store, plan(sweep.runs), LocalBackend(interrupted))
        assert store.counts()["pending"] == 18


def test_trainer_that_reorders_members_is_caught():
    sweep = _sweep()
    pop = Population(tuple(sweep.runs[:2]))

    def reversed_trainer(configs, seeds, progress=None):
        return sweep_fakes.train_population(configs[::-1], seeds[::-1])

    with pytest.raises(RuntimeError, match="is for another run"):
        run_population(reversed_trainer, pop)


@pytest.mark.slow
def test_process_backend_matches_local(tmp_path):
    sweep = _sweep()
    ids = [r.id for r in sweep.runs]
    _execute(tmp_path / "local.sqlite", sweep.runs, LocalBackend(FAKE))
    progress = _Progress()
    with Store(tmp_path / "proc.sqlite") as store, ProcessBackend(FAKE, workers=2) as backend:
        summary = execute(store, plan(sweep.runs, workers=2), backend, progress=progress)
    assert summary.failed == 0 and progress.n_updates == 18 * 3 * sweep_fakes.UPDATES_PER_EPOCH
    assert _dump(tmp_path / "proc.sqlite", ids) == _dump(tmp_path / "local.sqlite", ids)


# --- the real engine on a tiny problem ---

TINY = {"dataset": "digits", "units": 8, "epochs": 1, "batch_size": 64}


@pytest.fixture(scope="module")
def tiny_local(tmp_path_factory):
    """The tiny real sweep run locally, each run alone (the reference for the others)."""
    pytest.importorskip("coagentnet.training.loop")
    sweep = parse({"base": TINY, "grid": {"lr": [2.0**-8, 2.0**-5]}, "seeds": 2})
    path = tmp_path_factory.mktemp("tiny") / "local.sqlite"
    summary = _execute(path, sweep.runs, LocalBackend(), max_population=1)
    assert summary.failed == 0, summary.errors
    return sweep, path


@pytest.mark.slow
def test_real_engine_grouping_invariance(tiny_local, tmp_path):
    sweep, local = tiny_local
    _execute(tmp_path / "all.sqlite", sweep.runs, LocalBackend())
    ids = [r.id for r in sweep.runs]
    assert _dump(tmp_path / "all.sqlite", ids) == _dump(local, ids)  # bitwise
    with Store(tmp_path / "all.sqlite", readonly=True) as store:
        rec = store.runs(ids)[0]
    assert rec["population_size"] == 4 and rec["device"] == "cpu" and rec["updates"] > 0
    assert {"coagentnet", "jax", "numpy", "python"} <= set(json.loads(rec["versions"]))
    assert "validation/accuracy" in rec["final"]


@pytest.mark.slow
def test_real_engine_process_backend_matches_local(tiny_local, tmp_path):
    sweep, local = tiny_local
    with Store(tmp_path / "proc.sqlite") as store, ProcessBackend(workers=2) as backend:
        summary = execute(store, plan(sweep.runs, workers=2), backend)
    assert summary.failed == 0, summary.errors
    ids = [r.id for r in sweep.runs]
    assert _dump(tmp_path / "proc.sqlite", ids) == _dump(local, ids)  # bitwise


@pytest.fixture(scope="module")
def ray_cluster():
    """A local 2-CPU Ray cluster for this module; yields its address."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install coagentnet[ray])")
    # Local Ray workers inherit the driver's environment: let them import the test helpers.
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [TESTS, old]))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "os.fork", RuntimeWarning)  # Ray spawns its daemons
        ctx = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ctx.address_info["gcs_address"]
    finally:
        ray.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old


@pytest.mark.slow
def test_ray_backend_matches_local(ray_cluster, tiny_local, tmp_path):
    sweep, local = tiny_local
    with RayBackend() as backend:
        assert backend.slots == 2
        summary = _execute(tmp_path / "ray.sqlite", sweep.runs, backend, workers=2)
    assert summary.failed == 0, summary.errors
    ids = [r.id for r in sweep.runs]
    assert _dump(tmp_path / "ray.sqlite", ids) == _dump(local, ids)  # bitwise


@pytest.mark.slow
def test_sweep_command_on_a_ray_address_matches_local(ray_cluster, tmp_path):
    """``coagentnet sweep --backend ray --address`` from another process, fake trainer."""
    sweep_file = tmp_path / "fake.yaml"
    sweep_file.write_text(
        "base: {units: 8, layers: 2, epochs: 3, unit_type: gaussian}\n"
        "grid: {lr: [0.01, 0.02, 0.9], unit_std: [1.0, 2.0]}\nseeds: 3\n"
    )
    env = dict(os.environ, COAGENTNET_TRAINER=FAKE)
    cmd = [sys.executable, "-m", "coagentnet.cli", "sweep", str(sweep_file), "--no-progress"]
    proc = subprocess.run(
        [*cmd, "--backend", "ray", "--address", ray_cluster, "--store", str(tmp_path / "r.sqlite")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "12 done, 6 diverged, 0 failed" in proc.stderr
    runs = _sweep().runs
    _execute(tmp_path / "local.sqlite", runs, LocalBackend(FAKE))
    ids = [r.id for r in runs]
    assert _dump(tmp_path / "r.sqlite", ids) == _dump(tmp_path / "local.sqlite", ids)
    with Store(tmp_path / "r.sqlite", readonly=True) as store:
        assert {r["population_size"] for r in store.runs()} == {9}  # split for 2 workers


def test_default_trainer_is_the_real_function_and_pickles_by_reference():
    import pickle

    from coagentnet.sweeps.backends import DEFAULT_TRAINER
    from coagentnet.training.run import run_population

    assert DEFAULT_TRAINER is run_population
    assert pickle.loads(pickle.dumps(DEFAULT_TRAINER)) is run_population  # what workers receive
