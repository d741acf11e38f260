"""Options that change nothing for the configs they are given with are refused, as the critic
options are (issue 23; input audit 2, section 16): each was silently ignored yet gave the run
another id, so the same experiment was stored twice."""

from __future__ import annotations

import pytest

from coagentnet.commands.train import configs_from_args
from coagentnet.config import Config
from coagentnet.config.option_use import NEEDS
from coagentnet.sweeps import sweepfile
from conftest import refused

IGNORED = [
    ["--ema-decay", "0.5"],
    ["--loo-samples", "7"],
    ["--epsilon", "0.9"],
    ["--epsilon-schedule", "decay"],
    ["--num-actions", "5"],
    ["--value-map", "unit"],
    ["--unit-std", "3"],
    ["--difficulty", "0.7"],
    ["--num-means", "3"],
    ["--batches-per-mean", "3"],
    ["--num-evals", "3"],
    ["--explore-resample", "epoch"],
    ["--finetune-optimizer", "adam"],
    ["--finetune-lr-scale", "0.5"],
    ["--activation", "tanh"],
    ["--staged"],
]


@pytest.mark.parametrize("option", IGNORED, ids=lambda o: o[0])
def test_train_refuses_an_option_no_run_uses(tmp_path, monkeypatch, capsys, option):
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--units", "8", "--epochs", "1", "--seeds", "1", *option]
    refused(capsys, argv, option[0], tmp_path)


def test_an_option_some_runs_use_is_kept_for_those_only():
    from coagentnet.cli import build_parser

    args = build_parser().parse_args(
        ["train", "--baseline", "none,ema", "--ema-decay", "0.5", "--units", "8"]
    )
    none, ema = configs_from_args(args)
    assert none == Config(units=8)  # the same run (and id) as without --ema-decay
    assert (ema.baseline, ema.ema_decay) == ("ema", 0.5)


def test_a_sweep_file_setting_an_unused_option_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbase: {units: 8, ema_decay: 0.5}\n")
    with pytest.raises(Exception, match=r"base\.ema_decay: has no effect without baseline"):
        sweepfile.load(path)
    path.write_text("name: s\nbase: {units: 8, ema_decay: 0.5}\ngrid: {baseline: [none, ema]}\n")
    assert len(sweepfile.load(path).runs) == 2  # ids unchanged: nothing is rewritten


def test_every_option_with_a_need_is_a_config_field():
    assert set(NEEDS) <= set(Config.__dataclass_fields__)
