"""Shared fixtures: the digits data set (loaded once per session) and a catalogue of tiny problems
and rules. Markers for data sets a machine may lack are in ``marks.py``."""

from __future__ import annotations

import contextlib
import signal

import pytest

from coagentnet.data import load_dataset
from coagentnet.rules.base import Problem
from coagentnet.rules.registry import rule_names

#: Tiny problems the estimator and rule tests use, by name.
PROBLEMS = {
    "classification": Problem(in_dim=3, out_dim=3, task="classification"),
    "regression": Problem(in_dim=3, out_dim=1, task="regression"),
    "wide": Problem(in_dim=5, out_dim=3, task="classification"),
}

#: Config fields a rule of the catalogue needs beyond ``rule`` to be tiny and valid (critic
#: rules want a layer to bootstrap from; some rules want other units or a baseline).
RULE_NEEDS = {
    "reinforce": dict(baseline="ema"),
    "actor_critic": dict(layers=2),
    "off_policy": dict(layers=2),
    "mc_critic": dict(layers=2),
    "value_based": dict(unit_type="bernoulli2"),
}


#: Rules of the catalogue: every registered rule (a rule is in the catalogue by being
#: registered; its needs, if any, in RULE_NEEDS) -> Config fields of a tiny network of it.
TINY_RULES = {name: dict(rule=name, **RULE_NEEDS.get(name, {})) for name in rule_names()}


@contextlib.contextmanager
def alarm_bound(seconds: int, error: Exception):
    """Raise ``error`` in the main thread if the block runs past ``seconds``: a guard that turns a
    hang into a failure, not a timing assertion."""

    def expire(signum, frame):
        raise error

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def finished_sweep(tmp_path, monkeypatch, capsys):
    """A finished three-run sweep of the fake trainer, run in ``tmp_path``:
    (sweep file, store path)."""
    from coagentnet.cli import main

    from sweep_fakes import THREE_RUNS, TRAINER

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COAGENTNET_TRAINER", TRAINER)
    path = tmp_path / "s.yaml"
    path.write_text(THREE_RUNS)
    assert main(["sweep", str(path), "--no-progress"]) == 0
    capsys.readouterr()
    return path, tmp_path / "results" / "s.sqlite"


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits with the default split, loaded once for the whole session."""
    return load_dataset("digits")


@pytest.fixture(params=sorted(TINY_RULES))
def tiny_rule_fields(request) -> dict:
    """Each rule of the catalogue in turn: Config fields for a tiny network of that rule."""
    return dict(TINY_RULES[request.param], units=8, batch_size=64, epochs=1)
