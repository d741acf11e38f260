"""CLI conventions: --version, a bare command, user errors as one line and exit 2, defaults in
every --help, powers of two for float options, -q/-v, the critic warning, and train --store read
back by status/export/report."""

from __future__ import annotations

import argparse
import json
import logging

import pytest

from coagentnet import __version__
from coagentnet.cli import build_parser, main
from coagentnet.commands.options import parse_float
from coagentnet.commands.train import warn_single_layer_critics
from coagentnet.config import Config
from conftest import refused

TINY = ["--units", "4", "--epochs", "1", "--batch-size", "128", "--lr", "2^-6"]


def test_version_and_a_bare_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"coagentnet {__version__}"
    assert main([]) == 2  # bare: the help on stdout, the usage-error code
    out = capsys.readouterr().out
    assert out.startswith("usage: coagentnet") and "train" in out and "report" in out


def test_every_user_error_is_one_line_and_exit_2_from_one_module(monkeypatch, capsys):
    from coagentnet import errors
    from coagentnet.commands import common, train
    from coagentnet.data import DataError
    from coagentnet.sweeps.store import StoreError

    # The old import paths name the same classes.
    assert (DataError, StoreError, common.UsageError) == (
        errors.DataError,
        errors.StoreError,
        errors.UsageError,
    )
    for error in errors.USER_ERRORS:

        def fail(args, error=error):
            raise error("what: went wrong")

        monkeypatch.setattr(train, "run", fail)
        assert main(["train", *TINY]) == 2, error
        assert capsys.readouterr().err == "coagentnet train: error: what: went wrong\n"


def _option_actions(parser):
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for verb, p in sub.choices.items():
        for action in p._actions:
            if action.option_strings and not isinstance(action, argparse._HelpAction):
                yield verb, p, action


def test_every_option_shows_its_default():
    parser = build_parser()
    missing = []
    for verb, p, action in _option_actions(parser):
        text = p.formatter_class(prog=verb)._expand_help(action)
        if "default" not in text:
            missing.append(f"{verb} {action.option_strings[0]}")
    assert not missing, missing


def test_train_help_shows_the_config_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Learning rate alpha. (default: 0.00048828125)" in text
    assert "(default: reinforce)" in text and "(default: 3)" in text


@pytest.mark.parametrize(
    ("text", "value"),
    [("2^-6", 2.0**-6), ("2**-6", 2.0**-6), ("2^3", 8.0), (" 2 ^ -11 ", 2.0**-11),
     ("0.001", 0.001), ("1e-3", 1e-3), ("0", 0.0), ("2^-126", 2.0**-126)],
)  # fmt: skip
def test_powers_of_two_parse(text, value):
    assert parse_float(text) == value


@pytest.mark.parametrize("text", ["2^x", "2^-", "2^1000", "2**-200", "2^1.5", "abc", "1e40", "inf"])
def test_bad_floats_are_refused_in_one_line(text, capsys):
    with pytest.raises(ValueError) as info:
        parse_float(text)
    assert "\n" not in str(info.value) and repr(text.strip()) in str(info.value)
    refused(capsys, ["train", "--lr", text, "--seeds", "1"], "coagentnet train: error: --lr:")


def test_every_float_option_takes_powers_of_two():
    parser = build_parser()
    args = parser.parse_args(["sweep", "f.yaml", "--memory-mb", "2^10", "--cpus-per-task", "2**-1"])
    assert (args.memory_mb, args.cpus_per_task) == (1024.0, 0.5)
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["sweep", "f.yaml", "--memory-mb", "2^x"])
    assert info.value.code == 2


def test_a_critic_rule_with_one_layer_warns(caplog):
    configs = [Config(rule=r, layers=n) for r in ("actor_critic", "reinforce") for n in (1, 2)]
    with caplog.at_level(logging.WARNING, logger="coagentnet"):
        warn_single_layer_critics(configs)
    assert [r.getMessage() for r in caplog.records] == [
        "warning: actor_critic with --layers 1 has no later layer to bootstrap from (its "
        "critic's target is the reward), so with the default actor signal it trains as "
        "reinforce; use --layers 2 or more to see its critics at work"
    ]


def test_quiet_and_verbose_set_the_log_level():
    parser = build_parser()
    assert parser.parse_args(["-q", "status", "x.sqlite"]).verbosity == -1
    assert parser.parse_args(["status", "x.sqlite", "-v"]).verbosity == 1
    assert parser.parse_args(["status", "x.sqlite"]).verbosity == 0


@pytest.mark.slow  # trains, then draws the report's figures
def test_train_store_then_status_export_and_report(tmp_path, capsys):
    store = tmp_path / "mine.sqlite"
    argv = [*TINY[:-2], "--lr", "2^-6,2^-5", "--seeds", "2", "--json", "--store", str(store)]
    argv.insert(0, "train")
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["runs"]) == 4
    assert main(["status", str(store)]) == 0
    assert "mine: 4 runs: done 4" in capsys.readouterr().out
    assert main(["export", str(store), "--out", str(tmp_path / "m.csv")]) == 0
    assert (tmp_path / "m.runs.csv").read_text().count("\n") == 5  # header and 4 runs
    capsys.readouterr()
    assert main(["report", str(store), "--out", str(tmp_path / "rep")]) == 0
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "<img" in html or "<svg" in html
    # Again: the runs are in the store, nothing is trained, the same finals come back.
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert [r["final"] for r in again["runs"]] == [r["final"] for r in out["runs"]]


def test_status_and_export_take_a_store_alone(tmp_path, capsys):
    from coagentnet.sweeps.plan import make_run
    from coagentnet.sweeps.store import Store
    from coagentnet.training.results import RunResult

    path = tmp_path / "alone.sqlite"
    cfg = Config(units=4)
    runs = [make_run(cfg, s) for s in (0, 1, 2)]
    with Store(path) as store:
        store.add_runs(runs)
        store.finish(runs[0], RunResult(cfg, 0, False, metrics=[(0, "test", "loss", None, 1.0)]))
    assert main(["status", str(path)]) == 0
    assert "alone: 3 runs: done 1, running 0, pending 2" in capsys.readouterr().out
    assert main(["export", str(path)]) == 0
    assert (tmp_path / "alone.csv").read_text().count("\n") == 2  # header, one metric row
    refused(capsys, ["status", str(tmp_path / "missing.sqlite")], "missing.sqlite")


@pytest.mark.parametrize("unbuffered", ["", "1"])  # block-buffered stdout fails at the flush
def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path, unbuffered):
    # `coagentnet sweep f.yaml --dry-run | head -0`: the reader is gone before the plan prints
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    (tmp_path / "s.yaml").write_text("base: {epochs: 1}\ngrid:\n  units: [1, 2, 3]\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "coagentnet.cli", "sweep", "s.yaml", "--dry-run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # long before the first write: the interpreter is still starting
    err = proc.communicate(timeout=120)[1].decode()
    assert proc.returncode == 141 and "Traceback" not in err, err
