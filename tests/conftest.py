"""Shared fixtures: the digits data set (loaded once per session), a catalogue of tiny problems
and rules, and the two shared harnesses: :func:`assert_same_run` (two runs' records identical
to the last bit: population == solo, resumed == uninterrupted) and :func:`refused` (bad input:
exit 2, one stderr line naming the option, field or file, nothing on disk changed). Markers
for data sets a machine may lack are in ``marks.py``."""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path

import jax
import numpy as np
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


def _numbers(result):
    """Everything a run records: its metric rows and its final parameters, as arrays."""
    rows = [r[:4] for r in result.metrics]
    values = np.array([r[4] for r in result.metrics])
    return rows, values, [np.asarray(x) for x in jax.tree.leaves(result.params)]


def assert_same_run(a, b) -> None:
    """The population harness: two runs' records are identical to the last bit (every metric
    row and value, the final values, divergence, every final parameter). No tolerance: a
    member of a population equals its solo run, a resumed run the uninterrupted one."""
    rows_a, values_a, params_a = _numbers(a)
    rows_b, values_b, params_b = _numbers(b)
    assert rows_a == rows_b
    np.testing.assert_array_equal(values_a, values_b)  # exact: no tolerance
    assert a.diverged == b.diverged and a.final == b.final
    assert len(params_a) == len(params_b) > 0
    for x, y in zip(params_a, params_b, strict=True):
        np.testing.assert_array_equal(x, y)


def tree(root: Path) -> dict:
    """Every file under root with its size and modification time (what 'unchanged' means).

    SQLite's own -wal/-shm side files are left out: any reader of a WAL store may make them,
    and they hold nothing of ours once the store is closed."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.name.endswith(("-wal", "-shm")):
            continue
        st = p.lstat()
        out[str(p.relative_to(root))] = (True,) if p.is_dir() else (st.st_size, st.st_mtime_ns)
    return out


def assert_refusal(code: int, err: str, *needles: str) -> None:
    """The bad-input contract: exit code 2 and one stderr line, no traceback, naming each of
    ``needles`` (the option, field or file and what was expected)."""
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


def refused(capsys, argv, needle: str, root: Path | None = None) -> str:
    """Run the CLI in this process on bad input ``argv``: assert :func:`assert_refusal` and,
    given ``root``, that nothing under it changed. Returns the error line."""
    from coagentnet.cli import main

    before = None if root is None else tree(root)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own refusals
        code = exit.code
    err = capsys.readouterr().err
    assert_refusal(code, err, needle)
    if root is not None:
        assert tree(root) == before
    return err


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
