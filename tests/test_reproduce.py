"""``coagentnet reproduce`` and ``coagentnet report`` end to end on a tiny study; presets;
the study registry matches the sweep files in experiments/."""

import base64
import json
import re
import sqlite3

import pytest

from coagentnet.cli import main
from coagentnet.reproduce import runner, studies
from coagentnet.sweeps import sweepfile
from coagentnet.sweeps.store import Store
from conftest import refused

TINY = """
name: mnist_shallow
base: {dataset: digits, units: 8, layers: 1, batch_size: 64, epochs: 2}
grid:
  - rule: [backprop]
    lr: [0.01, 0.03]
  - rule: [reinforce]
    lr: [0.01, 0.03]
seeds: 2
presets:
  quick: {description: tiny digits run for the test}
  paper: {base: {epochs: 3}}
"""


@pytest.fixture()
def tiny_study(tmp_path):
    exp = tmp_path / "experiments" / "mnist_shallow"
    exp.mkdir(parents=True)
    (exp / "rules.yaml").write_text(TINY)
    return tmp_path / "experiments"


def _pngs(html):
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


@pytest.mark.slow
def test_reproduce_runs_resumes_and_reports(tiny_study, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["reproduce", "mnist_shallow", "--experiments", str(tiny_study), "--out", str(out)]
    assert main([*args, "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "8 runs, 8 trained now" in err

    db = out / "mnist_shallow" / "rules.sqlite"
    with Store(db, readonly=True) as store:
        assert store.counts()["done"] + store.counts()["diverged"] == 8
        meta = json.loads(store.get_meta(runner.META_KEY))
    assert meta["study"] == "mnist_shallow" and meta["preset"] == "quick"

    html = (out / "report.html").read_text()
    pngs = _pngs(html)
    assert len(pngs) == 2 and all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    for name in ("rules-curves", "rules-lr"):
        assert (out / "mnist_shallow" / "figures" / f"{name}.svg").exists()
    assert "tiny digits run for the test" in html  # the preset says what it runs
    # Findings first: the claims summary, then the study; provenance last.
    assert html.index("Claims summary") < html.index("<figure") < html.index("Provenance")
    assert "mnist_shallow: " in html and "Probability of improvement" in html
    assert "digits (the MNIST study)" in html  # the heading names the data the runs used
    assert "Final numbers" in html and "backprop" in html and "reinforce" in html

    summary = json.loads((out / "summary.json").read_text())
    rows = summary["studies"]["mnist_shallow"]["rules"]["table"]
    assert [r["method"] for r in rows] == ["backprop", "reinforce"]
    assert all(r["n"] == 2 for r in rows)
    # Numbers, not display strings: a mean inside its t interval (2 seeds), the kind named.
    for r in rows:
        mean = r["final test accuracy mean"]
        assert isinstance(mean, float) and isinstance(r["final test accuracy se"], float)
        assert r["ci"] in ("t", "t, clipped to [0, 1]") and r["ci_low"] <= mean <= r["ci_high"]
        assert 0 <= r["ci_low"] and r["ci_high"] <= 1  # an accuracy's interval stays in [0, 1]
        assert isinstance(r["log2 lr"], float) and isinstance(r["at_grid_edge"], str)
    assert (out / "mnist_shallow" / "rules-final.csv").exists()
    assert "| method |" in (out / "summary.md").read_text()

    # Resumable: a second run trains nothing and remakes the report.
    assert main([*args, "--no-progress"]) == 0
    assert "8 runs, 0 trained now" in capsys.readouterr().err

    # Another study into the same folder: the report is of the folder, both studies in it.
    (tiny_study / "tabular").mkdir()
    (tiny_study / "tabular" / "boston.yaml").write_text(
        "name: tabular\nbase: {dataset: diabetes, units: 4, layers: 1, epochs: 2, rule: backprop}\n"
        "presets: {quick: {description: tiny}, paper: {}}\n"
    )
    tabular = ["reproduce", "tabular", "--experiments", str(tiny_study), "--out", str(out)]
    assert main([*tabular, "--no-progress"]) == 0
    both = json.loads((out / "summary.json").read_text())["studies"]
    assert set(both) == {"mnist_shallow", "tabular"}
    assert "coagentnet reproduce mnist_shallow" in (out / "report.html").read_text()

    # `report` remakes everything from the store alone.
    (out / "report.html").unlink()
    assert main(["report", str(db), "--out", str(tmp_path / "again")]) == 0
    again = (tmp_path / "again" / "report.html").read_text()
    assert len(_pngs(again)) == 2
    assert "coagentnet reproduce mnist_shallow --preset quick" in again


def test_report_on_a_plain_sweep_store(tmp_path, monkeypatch):
    """A store from `coagentnet sweep` (no study) gets generic figures."""
    monkeypatch.chdir(tmp_path)
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        "name: plain\nbase: {dataset: digits, units: 4, epochs: 1, batch_size: 128}\n"
        "grid: {lr: [0.01, 0.02]}\nseeds: 1\n"
    )
    assert main(["sweep", str(sweep), "--no-progress"]) == 0
    assert main(["report", "results/plain.sqlite"]) == 0
    html = (tmp_path / "results" / "report.html").read_text()
    assert len(_pngs(html)) == 2  # curves and lr sensitivity


def test_user_errors(tmp_path, capsys):
    assert main(["reproduce", "nosuch", "--out", str(tmp_path)]) == 2
    assert "unknown study 'nosuch'" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.sqlite")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2
    bad = tmp_path / "bad.sqlite"
    sqlite3.connect(bad).execute("CREATE TABLE x(y)").connection.commit()
    assert main(["report", str(bad)]) == 2
    assert "cannot read store" in capsys.readouterr().err


# --- presets ---


@pytest.mark.parametrize(
    "argv, message",
    [
        (["all", "--preset", "huge"], "--preset: unknown 'huge'; allowed: quick, long, paper"),
        (["units_k", "--preset", "long"], "--preset: study 'units_k' does not define 'long'"),
    ],
)
def test_a_preset_that_is_unknown_or_undefined_is_one_line_exit_2(tmp_path, capsys, argv, message):
    refused(capsys, ["reproduce", *argv, "--out", str(tmp_path)], message, tmp_path)


def test_preset_overrides_base_grid_seeds_and_name():
    raw = {
        "name": "x",
        "base": {"dataset": "digits", "epochs": 2},
        "grid": [{"rule": ["backprop"], "lr": [0.1]}, {"rule": ["reinforce"], "lr": [0.1]}],
        "seeds": 1,
        "presets": {
            "quick": {"description": "small"},
            "paper": {"base": {"epochs": 5}, "grid": {"lr": [0.1, 0.2]}, "seeds": 3},
        },
    }
    quick = sweepfile.parse(raw, preset="quick")
    assert quick.name == "x-quick" and len(quick.runs) == 2
    paper = sweepfile.parse(raw, preset="paper")
    assert paper.name == "x-paper" and len(paper.runs) == 2 * 2 * 3
    assert {r.config.epochs for r in paper.runs} == {5}
    plain = sweepfile.parse(raw)  # without a preset the file runs as written
    assert plain.name == "x" and len(plain.runs) == 2
    raw["presets"]["long"] = {"grid": [{"rule": ["backprop"], "lr": [0.1, 0.2, 0.3]}]}
    long = sweepfile.parse(raw, preset="long")  # a list replaces the whole grid
    assert sorted(r.config.lr for r in long.runs) == [0.1, 0.2, 0.3]
    assert {r.config.rule for r in long.runs} == {"backprop"}
    raw["presets"]["long"] = {"grid": [{"rule": ["backprop"], "lr": ["x"]}]}
    with pytest.raises(sweepfile.SweepError, match=re.escape("grid[0].lr[0]: expected float")):
        sweepfile.parse(raw, preset="long")


@pytest.mark.parametrize(
    "preset, message",
    [
        ({"grid": {"units": [4]}}, "presets.p.grid.units: no grid of this file has that axis"),
        ({"seed": 3}, "presets.p.seed: unknown key"),
        ({"base": {"epochz": 3}}, "base.epochz: unknown key"),
    ],
)
def test_bad_presets_are_one_line_errors(preset, message):
    raw = {"base": {"dataset": "digits"}, "grid": {"lr": [0.1]}, "presets": {"p": preset}}
    with pytest.raises(sweepfile.SweepError, match=re.escape(message)):
        sweepfile.parse(raw, preset="p")
    with pytest.raises(sweepfile.SweepError, match="no preset 'q'"):
        sweepfile.parse(raw, preset="q")


def test_sweep_verb_takes_a_preset(tmp_path, capsys):
    path = tmp_path / "f.yaml"
    path.write_text(TINY)
    assert main(["sweep", str(path), "--preset", "paper", "--dry-run"]) == 0
    assert "sweep mnist_shallow-paper: 8 runs" in capsys.readouterr().out


# --- the registry and experiments/ ---


@pytest.mark.parametrize("preset", studies.PRESETS)
def test_every_study_file_loads_under_every_preset(preset):
    root = studies.experiments_dir()
    for st in studies.STUDIES:
        assert (root / st.name / "README.md").exists(), st.name
        for exp in st.experiments:
            data = sweepfile.read(root / st.name / f"{exp.file}.yaml")
            names = sweepfile.preset_names(data)
            assert set(studies.REQUIRED_PRESETS) <= set(names) <= set(studies.PRESETS)
            if preset not in names:
                continue
            assert data["presets"][preset]["description"]
            sweep = sweepfile.parse(data, preset=preset)
            assert sweep.runs
