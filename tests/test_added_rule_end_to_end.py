"""Adding a rule is one function and one registry entry: a rule defined here, in the test file,
goes through every path a built-in rule does (``train`` with and without a store, ``sweep``
into a store, ``report`` of that store) with no other change to the package."""

from __future__ import annotations

import json
import sys

import pytest

import coagentnet as cn
from coagentnet.cli import main
from coagentnet.rules import registry
from coagentnet.rules.coagent import coagent_rule

NAME = "test_file_rule"
TINY = ["--dataset", "digits", "--layers", "1", "--units", "4", "--epochs", "1"]


def reinforce_from_this_file(cfg, problem):
    """REINFORCE (no bootstrapped critic), built here as a user's rule module would."""
    return coagent_rule(cfg, problem, bootstrap=None)


@pytest.fixture
def added_rule():
    cn.register_rule(NAME, reinforce_from_this_file, policy_gradient=True, baselines=("none",))
    yield NAME
    registry.unregister_rule(NAME)


def test_an_added_rule_runs_through_train_sweep_store_and_report(added_rule, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["coagentnet"])
    monkeypatch.chdir(tmp_path)
    assert main(["train", *TINY, "--rule", added_rule, "--seeds", "1"]) == 0
    store = tmp_path / "runs.sqlite"
    assert main(["train", *TINY, "--rule", added_rule, "--seeds", "2", "--store", str(store)]) == 0
    (tmp_path / "s.yaml").write_text(
        f"name: s\nbase: {{dataset: digits, layers: 1, units: 4, epochs: 1, rule: {added_rule}}}\n"
        "grid: {lr: [0.01, 0.02]}\nseeds: 2\n"
    )
    assert main(["sweep", "s.yaml", "--store", str(store), "--no-progress"]) == 0
    with cn.open_store(store) as opened:
        runs = opened.runs()
    assert len(runs) == 6 and {r["config"]["rule"] for r in runs} == {added_rule}
    assert all(r["status"] == "done" for r in runs)
    # Its numbers are REINFORCE's, bitwise: the rule is what the test file says it is.
    ours = next(r for r in runs if r["seed"] == 0 and r["config"]["lr"] == 0.01)
    cfg = cn.Config(**{**ours["config"], "rule": "reinforce"})
    assert ours["final"] == cn.train(cfg, seed=0).final
    assert main(["report", str(store), "--out", str(tmp_path / "rep")]) == 0
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert summary["studies"]["runs"]["runs"]["counts"]["done"] == 6
