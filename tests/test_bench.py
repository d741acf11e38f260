"""``coagentnet bench`` on tiny sizes: what it reports and writes (never how fast it is)."""

import json
import math

import pytest

from coagentnet.bench import cases, measure, projections
from coagentnet.cli import main
from coagentnet.commands.bench import gpu_available
from coagentnet.training.evaluation import MAX_CHUNK
from conftest import assert_refusal

TINY = ["--steps", "5", "--repeats", "2"]


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["bench", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _check_row(row: dict, steps: int, repeats: int) -> None:
    P = row["population"]
    assert "error" not in row and "skipped" not in row, row
    assert row["steps"] == steps and row["repeats"] == repeats
    assert row["updates_per_chunk"] == steps * P
    assert row["timed_updates"] == steps * P * repeats
    assert len(row["chunk_s"]) == repeats
    for key in (
        "us_per_update",
        "updates_per_s",
        "first_chunk_s",
        "eval_s",
        "eval_us_per_example",
        "checkpoint_s",
        "checkpoint_mb",
    ):
        assert math.isfinite(row[key]) and row[key] > 0, (key, row[key])
    assert row["updates_per_s"] == pytest.approx(1e6 / row["us_per_update"])
    median = sorted(row["chunk_s"])[repeats // 2] if repeats % 2 else None
    if median is not None:
        assert row["us_per_update"] == pytest.approx(1e6 * median / (steps * P))
    # Compile time is reported apart from the steady state: first chunk minus the median.
    steady = row["us_per_update"] * steps * P / 1e6
    assert row["compile_s"] == pytest.approx(max(row["first_chunk_s"] - steady, 0.0), abs=1e-9)
    assert row["diverged"] == 0 and row["finite"] is True
    assert row["padded_population"] >= P and row["shards"] >= 1
    assert row["checkpoint_vs_chunk"] == pytest.approx(
        row["checkpoint_s"] * 1e6 / (row["us_per_update"] * steps * P)
    )


@pytest.mark.slow
def test_inline_run_prints_a_table_and_writes_parseable_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    argv = ["--configs", "correlated-1x50", "--populations", "1,2", *TINY, "--inline"]
    code, out, err = _run(capsys, *argv, "--json", str(path))
    assert code == 0, err
    report = json.loads(path.read_text())
    rows = report["results"]
    assert [(r["population"], r["rule"]) for r in rows] == [
        (1, "reinforce"),
        (1, "backprop"),
        (2, "reinforce"),
        (2, "backprop"),
    ]
    for row in rows:
        _check_row(row, steps=5, repeats=2)
        assert row["case"] == "correlated-1x50" and row["device"] == "cpu"
        assert row["eval_chunk"] == MAX_CHUNK  # the paper's evaluation sets, the engine's chunks
    for coagent, backprop in (rows[0:2], rows[2:4]):
        assert coagent["vs_backprop"] == pytest.approx(
            coagent["us_per_update"] / backprop["us_per_update"]
        )
    assert report["plan"]["populations"] == [1, 2] and report["plan"]["inline"] is True
    assert "speed only" in report["note"]
    study = report["projections"]["correlated_study_paper_scale"]
    assert study["not_measured"] == ["correlated-3x50/off_policy"] and study["total_s"] > 0
    lines = out.strip().splitlines()
    assert lines[1].split()[:4] == ["case", "rule", "P", "steps"]
    assert len([x for x in lines if x.startswith("correlated-1x50")]) == 4
    assert "projection correlated_study_paper_scale" in out
    assert "[4/4] correlated-1x50 backprop P=2" in err


@pytest.mark.slow
def test_json_to_stdout(capsys):
    argv = ["--configs", "correlated-1x50", "--populations", "1", *TINY, "--inline"]
    code, out, _ = _run(capsys, *argv, "--json", "-")
    assert code == 0
    report = json.loads(out)
    assert len(report["results"]) == 2 and report["machine"]["cpu_count"] >= 1


@pytest.mark.slow
def test_fresh_process_per_measurement_reports_memory(tmp_path, capsys):
    path = tmp_path / "b.json"
    argv = ["--configs", "mnist-1x64", "--populations", "2", "--steps", "5", "--repeats", "1"]
    code, _, err = _run(capsys, *argv, "--device", "cpu", "--json", str(path))
    assert code == 0, err
    rows = json.loads(path.read_text())["results"]
    assert [r["rule"] for r in rows] == ["reinforce", "backprop"]
    for row in rows:
        _check_row(row, steps=5, repeats=1)
        assert row["peak_rss_mb"] >= row["base_rss_mb"] > 0
        assert row["program_mb"] > row["state_mb"] > 0  # 784-64-10 state: 2 networks x ~0.4 MB
        assert row["eval_examples"] == 5 * 32 + 2 * cases.EVAL_EXAMPLES


@pytest.mark.skipif(gpu_available(inline=True), reason="this machine has a GPU")
def test_gpu_without_a_gpu_is_a_one_line_error(capsys):
    code, out, err = _run(capsys, "--device", "gpu", "--inline")
    assert out == ""
    assert_refusal(code, err, "coagentnet bench: error: --device gpu: JAX sees no GPU")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--configs", "mnist-9x9"], "--configs: unknown case mnist-9x9"),
        (["--populations", "0,10"], "--populations: expected integers >= 1"),
        (["--populations", "ten"], "--populations: expected comma-separated integers"),
        (["--steps", "0"], "--steps: must be > 0"),
        (["--eval-chunk", "0"], "--eval-chunk: must be > 0"),
    ],
)
def test_bad_options_are_one_line_errors(capsys, argv, message):
    code, _, err = _run(capsys, *argv, "--device", "cpu")
    assert_refusal(code, err, f"coagentnet bench: error: {message}")


def test_steps_shrink_with_population_but_not_below_the_minimum():
    case = cases.CASES["mnist-1x64"]
    assert cases.steps_for(case, 1) == case.steps
    assert cases.steps_for(case, 1000) == case.budget // 1000
    assert cases.steps_for(case, 10**7) == cases.MIN_STEPS
    assert cases.steps_for(case, 10**7, steps=7) == 7
    assert cases.steps_for(case, 1000, device="gpu") > cases.steps_for(case, 1000)


def test_projections_follow_from_the_measured_rates():
    rows = [
        dict(case="mnist-3x64", kind="coagent", population=10, us_per_update=100.0,
             eval_us_per_example=1.0),
        dict(case="mnist-3x64", kind="coagent", population=1000, us_per_update=50.0,
             eval_us_per_example=0.5),
    ]  # fmt: skip
    mnist = projections.projections(rows)["mnist_3x64_off_policy_9_seeds_1000_epochs"]
    assert mnist["measured_population"] == 10  # nearest to the 9 seeds
    assert mnist["train_s"] == pytest.approx(9 * 1000 * 1562 * 100e-6)
    assert mnist["eval_s"] == pytest.approx(9 * 1001 * 70_000 * 1e-6)
    assert "correlated_study_paper_scale" not in projections.projections(rows)


@pytest.mark.slow
@pytest.mark.parametrize("what", ["5 updates", "evaluation"])
def test_ops_profile_lists_the_programs_operations(what):
    """``python -m bench.ops``: a real profile of one tiny chunk (or evaluation pass), read back
    per operation."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    argv = ["mnist-1x64", "--population", "2", "--steps", "5", "--top", "4"]
    if what == "evaluation":
        argv.append("--evaluation")
        what = f"{5 * 32 + 2 * cases.EVAL_EXAMPLES} examples"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ops", *argv], cwd=root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    head, *ops = proc.stdout.strip().splitlines()
    assert head.startswith("mnist-1x64 coagent P=2") and f"{what} per member" in head
    assert len(ops) == 4
    shares = [float(line.split()[2].rstrip("%")) for line in ops]
    assert all(s > 0 for s in shares) and sum(shares) <= 100.0 + 1e-6
    assert shares == sorted(shares, reverse=True)


@pytest.mark.slow
def test_eval_chunk_option_sets_the_evaluation_chunk(tmp_path, capsys):
    path = tmp_path / "b.json"
    argv = ["--configs", "mnist-1x64", "--populations", "1", *TINY, "--inline"]
    code, _, err = _run(capsys, *argv, "--eval-chunk", "100", "--json", str(path))
    assert code == 0, err
    report = json.loads(path.read_text())
    assert report["plan"]["eval_chunk"] == 100
    for row in report["results"]:
        _check_row(row, steps=5, repeats=2)
        assert row["eval_chunk"] == 100  # the arrays evaluated, not only the plan
        # Every example still evaluated once: the last chunk of each split is padded, not cut.
        assert row["eval_examples"] == 5 * 32 + 2 * cases.EVAL_EXAMPLES


@pytest.mark.slow
def test_eval_subset_bounds_the_timed_evaluation():
    import numpy as np

    from coagentnet.training.evaluation import EvalChunks

    arrays = EvalChunks(
        np.ones((40, 256, 3)), np.ones((40, 256)), np.ones((40, 256)), np.arange(40)
    )
    assert measure.eval_subset(arrays, 1).mask.shape == (40, 256)  # all of it fits
    kept = measure.eval_subset(arrays, measure.EVAL_BUDGET // (256 * 10)).mask.shape[0]
    assert kept == 10
    assert measure.eval_subset(arrays, 10**9).split.shape == (1,)  # never empty


@pytest.mark.slow
def test_member_tiles_are_measured_side_by_side(capsys):
    argv = ["--configs", "correlated-1x50", "--populations", "3", *TINY, "--inline"]
    code, out, err = _run(capsys, *argv, "--member-tile", "1,0", "--json", "-")
    assert code == 0, err
    report = json.loads(out[out.index("{") :])
    rows = report["results"]
    assert sorted((r["kind"], r["member_tile"]) for r in rows) == [
        ("backprop", 1),
        ("backprop", 3),
        ("coagent", 1),
        ("coagent", 3),
    ]
    for row in rows:
        _check_row(row, steps=row["steps"], repeats=row["repeats"])
        # each tile's coagent row is compared with backprop at the same tile
        assert row["vs_backprop"] > 0


@pytest.mark.slow
def test_the_json_report_is_rewritten_after_every_measurement():
    """A run cut short (a GPU lease's time limit) keeps every measurement made so far."""
    from coagentnet.bench import harness

    reports = []
    plan = harness.Plan(["correlated-1x50"], [1, 2], steps=5, repeats=1, inline=True)
    final = harness.run(plan, partial=reports.append)
    assert [len(r["results"]) for r in reports] == [2, 4]
    assert reports[-1]["results"] == final["results"]


@pytest.mark.slow
def test_whole_workloads_record_each_population_as_it_finishes(tmp_path):
    """``python -m bench.workloads``: the stream's populations trained whole and timed."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    argv = ["stream", "--out", str(tmp_path), "--means", "2", "--batches", "10", "--seeds", "2"]
    argv += ["--only", "d=0.0"]
    proc = subprocess.run(
        [sys.executable, "-m", "bench.workloads", *argv], cwd=root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "stream.json").read_text())
    pops = report["populations"]
    assert [p["population"] for p in pops] == ["d=0.0 backprop", "d=0.0 reinforce"]
    for p in pops:
        assert p["P"] == 2 and p["updates_per_member"] == 20 and p["evaluations"] == 3
        assert p["diverged"] == 0 and p["steady_us_per_network_update"] > 0
        assert 0 < p["first_evaluation_s"] <= p["last_evaluation_s"] <= p["wall_s"]
    assert report["device"]["platform"] == "cpu"


@pytest.mark.slow
def test_startup_table_has_the_whole_process_phases_of_a_tiny_train(tmp_path):
    """``bench/startup.py`` on a tiny train: the table names every phase of the whole process,
    cold and warm, and the warm run over ``import jax`` (what the numbers are is not tested)."""
    import importlib
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    try:
        startup = importlib.import_module("bench.startup")
    finally:
        sys.path.remove(str(root))
    tiny = ["train", "--dataset", "digits", "--epochs", "1", "--seeds", "1", "--json",
            "--units", "4", "--layers", "1", "--batch-size", "512"]  # fmt: skip
    out = startup.measure(1, tiny)
    text = startup.table(out)
    for phase in (*startup.PHASES, "total"):
        assert f"| {phase} |" in text
    assert "| warm train / import jax |" in text
    assert "| train digits 1 epoch, cold |" in text and "| train digits 1 epoch, warm |" in text
    for run in out["phases"].values():  # the phases split the process's wall time
        assert abs(sum(run[p] for p in startup.PHASES) - run["total"]) < 1e-6
