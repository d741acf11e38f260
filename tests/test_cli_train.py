"""``coagentnet train`` end to end, and its one-line errors."""

import json
import math
import subprocess
import sys

import pytest

from coagentnet.cli import main
from conftest import refused
from marks import needs_fashion, needs_mnist

TINY = ["--units", "8", "--epochs", "2", "--batch-size", "64", "--lr", "0.01"]


@pytest.mark.slow
def test_json_output_has_per_seed_metrics_and_their_summary(capsys):
    code = main(
        [
            "train",
            "--rule",
            "reinforce,off_policy",
            "--layers",
            "2",
            "--seeds",
            "2",
            "--json",
            *TINY,
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["runs"]) == 4 and len(out["summary"]) == 2
    for run in out["runs"]:
        assert run["diverged"] is False and run["seed"] in (0, 1)
        for split in ("train", "validation", "test"):
            assert 0.0 <= run["final"][f"{split}/accuracy"] <= 1.0
            assert run["final"][f"{split}/loss"] > 0
            for layer in (0, 1):
                assert 0.0 <= run["final"][f"{split}/entropy/{layer}"] <= math.log(2) + 1e-6
    off = next(s for s in out["summary"] if s["config"]["rule"] == "off_policy")
    accs = [r["final"]["test/accuracy"] for r in out["runs"] if r["config"]["rule"] == "off_policy"]
    assert off["final"]["test/accuracy"]["mean"] == pytest.approx(sum(accs) / 2)
    assert off["final"]["test/accuracy"]["se"] == pytest.approx(abs(accs[0] - accs[1]) / 2)
    assert "training/critic_loss/1" in off["final"]


@pytest.mark.slow
def test_table_output(capsys):
    assert main(["train", "--rule", "backprop", "--seeds", "2", *TINY]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines[0].startswith("configuration") and "greedy test accuracy" in lines[0]
    assert lines[1].split()[0] == "backprop" and "+/-" in lines[1]
    assert "updates/s" in captured.err


@pytest.mark.parametrize(
    "argv, field",
    [
        (["--rule", "magic"], "rule"),
        (["--unit-type", "spiking"], "unit_type"),
        (["--baseline", "mean"], "baseline"),
        (["--optimizer", "lbfgs"], "optimizer"),
        (["--units", "0"], "units"),
        (["--epochs", "-1"], "epochs"),
        (["--lr", "0"], "lr"),
        (["--unit-std", "0"], "unit_std"),
        (["--num-actions", "1"], "num_actions"),
        (["--critic-width", "32"], "--critic-width"),
        (["--units", "many"], "--units"),
        (["--seeds", "0"], "--seeds"),
        (["--dataset", "boston", "--input-range", "unit"], "input_range"),
        (["--input-range", "zero"], "input_range"),
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(capsys, argv, field):
    refused(capsys, ["train", *argv], f"coagentnet train: error: {field}")


def test_console_script_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "coagentnet.cli", "train", "--rule", "nope"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "rule" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "dataset, task",
    [
        ("digits", "classification"),
        pytest.param("mnist-test10k", "classification", marks=needs_mnist),
        ("mnist1d", "classification"),
        ("boston", "regression"),
        ("diabetes", "regression"),
        pytest.param("fashion-mnist", "classification", marks=needs_fashion),
    ],
)
def test_train_runs_on_every_data_set(capsys, dataset, task):
    argv = [
        "train",
        "--dataset",
        dataset,
        "--rule",
        "reinforce",
        "--units",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "128",
        "--seeds",
        "1",
        "--json",
    ]
    if task == "regression":
        argv += ["--unit-type", "gaussian", "--normalize"]
    assert main(argv) == 0
    final = json.loads(capsys.readouterr().out)["runs"][0]["final"]
    assert math.isfinite(final["test/loss"]) and final["test/loss"] > 0
    assert ("test/accuracy" in final) == (task == "classification")
