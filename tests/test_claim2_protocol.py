"""The claim-2 protocol (issue 21): its sweep file plans, and committed run records rebuild the
same claim-2 rows and curves as the store they were written from. No training happens here."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from coagentnet.analysis.claim2 import claim2_rows, markdown, verdict, welch_interval
from coagentnet.config import Config
from coagentnet.sweeps import plan, sweepfile
from coagentnet.sweeps.plan import make_run
from coagentnet.sweeps.records import Records, RecordsError, write_records
from coagentnet.sweeps.store import Store
from coagentnet.training.results import RunResult

SWEEP = Path(__file__).resolve().parents[1] / "experiments" / "protocol" / "claim2.yaml"
PRESETS = {"locked": 15, "locked4": 15, "screen": 45, "kary": 45, "digits": 15, "tuned": 15}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_loads_and_plans(preset):
    sweep = sweepfile.load(SWEEP, preset=preset)
    assert len(sweep.runs) == PRESETS[preset]
    assert {r.config.rule for r in sweep.runs} == {"reinforce", "actor_critic", "off_policy"}
    pops = plan.plan(list(sweep.runs), max_population=sweep.max_population, workers=3)
    assert sorted(r.id for p in pops for r in p.runs) == sorted(r.id for r in sweep.runs)


def test_locked_is_the_authors_protocol():
    sweep = sweepfile.load(SWEEP, preset="locked")
    for run in sweep.runs:
        c = run.config
        assert (c.dataset, c.layers, c.units, c.batch_size) == ("fashion-mnist", 3, 64, 32)
        assert (c.optimizer, c.lr, c.epochs) == ("rmsprop", 2.0**-11, 641)
    assert sorted({r.seed for r in sweep.runs}) == [0, 1, 2, 3, 4]


def test_the_tuned_arm_is_the_locked_budget_at_the_screened_lr():
    locked = sweepfile.load(SWEEP, preset="locked").runs
    tuned = sweepfile.load(SWEEP, preset="tuned").runs
    assert {r.config.lr for r in tuned} == {2.0**-7}
    same = lambda runs: sorted((repr(r.config.replace(lr=1.0)), r.seed) for r in runs)  # noqa: E731
    assert same(tuned) == same(locked)


# Final test accuracy per rule and seed: off_policy clearly best (a "confirmed" arm).
SCORES = {"reinforce": 0.80, "actor_critic": 0.82, "off_policy": 0.86}


def _result(config: Config, seed: int, diverged: bool = False) -> RunResult:
    """A made-up finished run: test accuracy, and per-layer entropy and on-fraction curves,
    over 4 evaluations, distinct per (rule, seed) and with awkward floats."""
    base = SCORES[config.rule] + 0.003 * seed
    rows, final = [], {}
    for k, step in enumerate((0, 10, 100, 1000)):
        acc = math.nan if diverged and k == 3 else base * (k + 1) / 4 + 1e-9 / 3
        rows.append((step, "test", "accuracy", None, acc))
        final["test/accuracy"] = acc
        for layer in range(config.layers):
            for metric, value in (("entropy", 0.69 / (k + 1)), ("on_fraction", 0.5 + seed / 7)):
                for split in ("train", "test"):
                    rows.append((step, split, metric, layer, value + layer / 3))
                    final[f"{split}/{metric}/{layer}"] = value + layer / 3
    return RunResult(config, seed, diverged, rows, final, updates=1000, wall_time_s=1.0)


def _store(path: Path, *, seeds: int = 3, diverge: str | None = None) -> Store:
    store = Store(path)
    env = {"versions": {"git": "abc123", "jax": "x"}, "device": "cpu", "host": "h"}
    for rule in SCORES:
        extra = {"critic_width": 8} if rule != "reinforce" else {}
        for seed in range(seeds):
            cfg = Config(dataset="digits", layers=2, units=8, rule=rule, epochs=3, **extra)
            run = make_run(cfg, seed)
            store.add_runs([run])
            store.finish(run, _result(cfg, seed, diverged=(rule == diverge and seed == 0)), env=env)
    pending = make_run(Config(dataset="digits", layers=2, units=8, rule="reinforce"), 99)
    store.add_runs([pending])  # not complete: gets no record
    return store


def test_records_round_trip(tmp_path):
    with _store(tmp_path / "s.sqlite", diverge="actor_critic") as store:
        written = write_records(store, tmp_path / "rec")
        from_store = claim2_rows(store)
        store_metrics = {i: store.metrics(i) for i in written}
    assert any(r[4] is None for rows in store_metrics.values() for r in rows)
    assert len(written) == 9
    records = Records(tmp_path / "rec")
    assert claim2_rows(records) == from_store
    for run_id, rows in store_metrics.items():
        got = records.metrics(run_id)
        assert got == rows  # bitwise; the diverged run's NaN is the store's NULL both ways
    (row,) = from_store
    assert row["budget"] == 1000 and row["verdict"] == "confirmed"
    mean, low, high, n, div = row["actor_critic"]
    assert (n, div) == (2, 1)  # the diverged seed is counted apart, not averaged
    assert low < mean < high
    assert "abc123" in records.runs()[0]["versions"]


def test_records_are_stable_bytes(tmp_path):
    with _store(tmp_path / "s.sqlite") as store:
        write_records(store, tmp_path / "a")
        write_records(store, tmp_path / "b")
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()


def test_records_errors(tmp_path):
    with pytest.raises(RecordsError, match="no such folder"):
        Records(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecordsError, match="no run records"):
        Records(tmp_path / "empty")


def test_verdicts():
    better, worse, same = [0.9, 0.91, 0.92], [0.8, 0.81, 0.82], [0.9, 0.92, 0.91]
    assert verdict({r: welch_interval(better, worse) for r in ("a", "b")}) == "confirmed"
    assert verdict({"a": welch_interval(better, worse), "b": welch_interval(worse, better)}) == (
        "refuted"
    )
    assert verdict({"a": welch_interval(better, worse), "b": welch_interval(better, same)}) == (
        "not decided"
    )
    assert verdict({"a": welch_interval(better, [0.8])}) == "not decided"  # n < 2


def test_cli_export_and_report_records(tmp_path, monkeypatch, capsys):
    from coagentnet.cli import main

    with _store(tmp_path / "s.sqlite") as store:
        expected = markdown(claim2_rows(store))
    monkeypatch.setattr(sys, "argv", ["coagentnet"])
    assert main(["export", str(tmp_path / "s.sqlite"), "--records", str(tmp_path / "rec")]) == 0
    assert "wrote 9 run records" in capsys.readouterr().out
    out = tmp_path / "rep"
    assert main(["report", "--records", str(tmp_path / "rec"), "--out", str(out)]) == 0
    assert capsys.readouterr().out == expected
    assert (out / "claim2.md").read_text().endswith(expected)
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) == 2 and pngs[0].endswith("-accuracy.png")
    assert main(["report", "--records", str(tmp_path / "nothing")]) != 0
    assert "no such folder" in capsys.readouterr().err


def test_resume_check_names_orphaned_checkpoints(tmp_path, capsys):
    """scripts/protocol_populations.py: with REINFORCE complete, 3 workers split the
    actor_critic group (its checkpoint would be orphaned: exit 1); 2 workers keep it whole."""
    import importlib.util

    from coagentnet.training.checkpoint import checkpoint_dir, population_name

    spec = importlib.util.spec_from_file_location(
        "protocol_populations", SWEEP.parents[2] / "scripts" / "protocol_populations.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    sweep = sweepfile.load(SWEEP, preset="locked")
    store_path = tmp_path / "claim2-locked.sqlite"
    with Store(store_path) as store:
        store.add_runs(sweep.runs)
        for run in sweep.runs:
            if run.config.rule == "reinforce":
                store.finish(
                    run, RunResult(run.config, run.seed, False, [(1, "test", "x", None, 0.5)], {})
                )
    folder = checkpoint_dir(store_path)
    folder.mkdir()
    for rule in ("actor_critic", "off_policy"):  # the batch's populations: 5 runs per rule
        ids = [r.id for r in sweep.runs if r.config.rule == rule]
        (folder / f"{population_name(ids)}.npz").write_bytes(b"")
    args = [str(SWEEP), "locked", str(store_path)]
    assert script.main([*args, "2"]) == 0
    assert capsys.readouterr().out.count("found") == 2
    assert script.main([*args, "3"]) == 1
    assert "NONE" in capsys.readouterr().out


def test_screen_selects_each_rules_lr_by_validation_auc(tmp_path):
    from coagentnet.analysis.claim2 import lr_selection

    # A flat validation curve at height h has AUC h: reinforce peaks inside the grid (2^-7),
    # actor_critic and off_policy at the two edges; the test curve plays no part.
    height = {
        "reinforce": (0.3, 0.5, 0.4),
        "actor_critic": (0.1, 0.2, 0.3),
        "off_policy": (0.4, 0.2, 0.1),
    }
    store = Store(tmp_path / "screen.sqlite")
    for rule, heights in height.items():
        extra = {"critic_width": 8} if rule != "reinforce" else {}
        for k, h in zip((-9, -7, -5), heights, strict=True):
            for seed in range(2):
                cfg = Config(dataset="digits", layers=2, units=8, rule=rule, lr=2.0**k, **extra)
                run = make_run(cfg, seed)
                rows = [(s, "validation", "accuracy", None, h + 0.01 * seed) for s in (0, 10, 20)]
                rows += [(20, "test", "accuracy", None, 0.5)]
                result = RunResult(cfg, seed, False, rows, {"test/accuracy": 0.5}, updates=20)
                store.add_runs([run])
                store.finish(run, result, env={"versions": {}, "device": "cpu", "host": "h"})
    table = lr_selection(store).splitlines()
    assert table[0] == "| rule | 2^-9 | 2^-7 | 2^-5 | selected |"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table[2:]}
    assert rows["reinforce"].endswith("| **0.505 ± 0.005** | 0.405 ± 0.005 | 2^-7 |")
    assert rows["actor_critic"].endswith("| **0.305 ± 0.005** | 2^-5 (grid edge) |")
    assert rows["off_policy"].endswith("| 0.105 ± 0.005 | 2^-9 (grid edge) |")
    assert lr_selection(_store(tmp_path / "one-lr.sqlite")) == ""  # no screen: no table
