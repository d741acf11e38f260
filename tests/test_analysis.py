"""Selection and reporting on hand-made frames with known answers; the store round trip."""

import math

import numpy as np
import pandas as pd
import pytest

from coagentnet.analysis import frames as analysis
from coagentnet.analysis.frames import Frames, Protocol
from coagentnet.analysis.labels import method_label
from coagentnet.config import Config
from coagentnet.sweeps.plan import make_run
from coagentnet.sweeps.store import Store
from coagentnet.training.results import RunResult

STEPS = (0, 10, 20)


def _frames(spec):
    """spec: list of (rule, lr, seed, val curve, test curve, diverged)."""
    runs, rows = [], []
    for i, (rule, lr, seed, val, test, div) in enumerate(spec):
        run = f"r{i}"
        runs.append(
            {
                "run": run,
                "seed": seed,
                "status": "done",
                "diverged": div,
                "rule": rule,
                "lr": lr,
                "units": 8,
            }
        )
        for split, curve in (("validation", val), ("test", test)):
            for step, v in zip(STEPS, curve, strict=False):
                rows.append((run, step, split, "accuracy", None, v))
    metrics = pd.DataFrame(rows, columns=list(analysis.METRIC_COLUMNS))
    return Frames(pd.DataFrame(runs), metrics)


def _ramp(top):
    return (0.1, top / 2, top)


def _spec():
    spec = []
    for seed in range(3):
        # A: lr 0.1 is best on validation (AUC), lr 0.01 is best on test: selection must
        # follow validation and report test at 0.1.
        spec.append(("A", 0.01, seed, _ramp(0.5), _ramp(0.9), False))
        spec.append(
            ("A", 0.1, seed, _ramp(0.8 + 0.01 * seed), (0.1, 0.4, 0.6 + 0.03 * seed), False)
        )
        # B: lr 0.01 best.
        spec.append(("B", 0.01, seed, _ramp(0.7), (0.1, 0.3, 0.5), False))
        spec.append(("B", 0.1, seed, _ramp(0.2), _ramp(0.99), False))
    return spec


def test_selection_picks_the_best_validation_setting_and_reports_its_test():
    sel = analysis.analyse(_frames(_spec()), Protocol())
    assert sel.method == ["rule"] and sel.tune == ["lr"]
    table = sel.table.set_index("rule")
    assert table.loc["A", "lr"] == 0.1
    assert table.loc["B", "lr"] == 0.01
    # Test at A's selected setting: finals 0.60, 0.63, 0.66 -> mean 0.63, se 0.03/sqrt(3)*...
    assert table.loc["A", "test_final"] == pytest.approx(0.63)
    assert table.loc["A", "test_final_se"] == pytest.approx(0.03 / math.sqrt(3))
    assert table.loc["B", "test_final"] == pytest.approx(0.5)
    # Normalised area of the ramp (0.1, t/2, t) on steps 0, 10, 20:
    # ((0.1 + t/2) / 2 + (t/2 + t) / 2) / 2 = 0.025 + t / 2.
    t = np.array([0.80, 0.81, 0.82])
    assert table.loc["A", "val_auc"] == pytest.approx(np.mean(0.025 + t / 2))
    assert set(sel.runs["lr"]) == {0.1, 0.01} and len(sel.runs) == 6
    # 3 seeds: Student's t interval, 0.63 +/- t(0.975, 2) * 0.03 / sqrt(3), t = 4.3027.
    lo, hi = table.loc["A", "test_final_ci_low"], table.loc["A", "test_final_ci_high"]
    half = 4.302653 * 0.03 / math.sqrt(3)
    assert (lo, hi) == pytest.approx((0.63 - half, 0.63 + half), abs=1e-5)
    assert table.loc["A", "ci"] == "t" and table.loc["A", "n"] == 3


def test_a_selection_at_the_end_of_its_grid_is_flagged():
    spec = []
    for seed in range(2):
        for lr, top in ((0.001, 0.5), (0.01, 0.8), (0.1, 0.6)):  # M: the middle lr is best
            spec.append(("M", lr, seed, _ramp(top), _ramp(top), False))
        for lr, top in ((0.001, 0.5), (0.01, 0.6), (0.1, 0.8)):  # E: the largest lr is best
            spec.append(("E", lr, seed, _ramp(top), _ramp(top), False))
        spec.append(("S", 0.1, seed, _ramp(0.7), _ramp(0.7), False))  # S: one lr, no grid
    table = analysis.analyse(_frames(spec), Protocol()).table.set_index("rule")
    assert table.loc["M", "at_grid_edge"] == ""
    assert table.loc["E", "at_grid_edge"] == "lr"
    assert table.loc["S", "at_grid_edge"] == ""


def test_minimising_a_loss_selects_the_lowest():
    spec = [
        (r, lr, s, (v, v, v), (v, v, v), False)
        for s in range(2)
        for r, lr, v in (("A", 0.1, 0.5), ("A", 0.01, 0.2))
    ]
    sel = analysis.analyse(_frames(spec), Protocol(maximize=False))
    assert sel.table["lr"].tolist() == [0.01]


def test_a_diverged_seed_is_counted_not_dropped():
    spec = _spec()
    # C: one of three seeds diverges at lr 0.1 although its other seeds are the best of C.
    for seed in range(3):
        spec.append(("C", 0.1, seed, _ramp(0.9), _ramp(0.9), seed == 2))
        spec.append(("C", 0.01, seed, _ramp(0.6), _ramp(0.6), False))
    sel = analysis.analyse(_frames(spec), Protocol())
    c = sel.table.set_index("rule").loc["C"]
    # Fewest diverged seeds first: the setting that diverged is not selected ...
    assert c["lr"] == 0.01 and c["diverged"] == 0
    # ... but the divergence is reported for the method.
    assert c["diverged_any"] == 1
    grid = sel.grid.set_index(["rule", "lr"])
    assert grid.loc[("C", 0.1), "diverged"] == 1 and grid.loc[("C", 0.1), "n"] == 3
    # The diverged setting's statistics are over the seeds that did not diverge.
    assert grid.loc[("C", 0.1), "mean"] == pytest.approx(0.025 + 0.9 / 2)


def test_when_every_setting_diverges_somewhere_the_count_shows_in_the_table():
    spec = []
    for seed in range(3):
        spec.append(("D", 0.1, seed, _ramp(0.9), _ramp(0.9), seed == 0))
        spec.append(("D", 0.01, seed, _ramp(0.5), _ramp(0.5), seed in (0, 1)))
    sel = analysis.analyse(_frames(spec), Protocol())
    row = sel.table.iloc[0]
    assert row["lr"] == 0.1 and row["diverged"] == 1 and row["n"] == 3
    assert row["diverged_any"] == 3
    assert row["test_final"] == pytest.approx(0.9)  # mean of the two seeds that finished


def test_run_scores_final_window_and_fraction():
    frames = _frames([("A", 0.1, 0, (0.1, 0.2, 0.3), (0.0, 0.5, 1.0), False)])
    assert analysis.run_scores(frames, "test", "accuracy", "final")["r0"] == 1.0
    assert analysis.run_scores(frames, "test", "accuracy", "final", 2)["r0"] == 0.75
    # 0.5 of the 2 evaluations after step 0 is the last one.
    assert analysis.run_scores(frames, "test", "accuracy", "final", 0.5)["r0"] == 1.0


def test_band_and_sensitivity():
    frames = _frames(_spec())
    b = analysis.band(frames, ["r0", "r4"], "test", "accuracy")
    assert b["step"].tolist() == list(STEPS) and b["n"].tolist() == [2, 2, 2]
    sel = analysis.analyse(frames, Protocol())
    sens = analysis.sensitivity(frames, sel, "lr", Protocol())
    assert len(sens) == 4 and set(sens["label"]) == {"A", "B"}
    a = sens[sens["label"] == "A"].set_index("lr")
    assert a.loc[0.01, "mean"] == pytest.approx(0.025 + 0.5 / 2)


def test_method_label():
    assert method_label({"layers": 2, "rule": "reinforce", "baseline": "ema"}) == (
        "reinforce+ema L=2"
    )
    assert method_label({"rule": "backprop", "baseline": "none"}) == "backprop"
    assert method_label({}) == "all runs"


def test_load_reads_a_store_round_trip(tmp_path):
    cfg = Config(dataset="digits", units=4, epochs=1)
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        for seed, div in ((0, False), (1, True)):
            run = make_run(cfg, seed)
            rows = [
                (0, "validation", "accuracy", None, 0.1),
                (5, "validation", "accuracy", None, 0.4),
                (5, "train", "entropy", 0, 0.6),
                (5, "train", "entropy", 1, 0.5),
            ]
            store.finish(run, RunResult(cfg, seed, div, rows, {}, 5))
        store.add_runs([make_run(cfg, 9)])  # pending: not in the frames
    frames = analysis.load(path)
    assert len(frames.runs) == 2 and frames.runs["diverged"].tolist() == [False, True]
    assert "units" in frames.config_columns
    ent = analysis.curve(frames, "train", "entropy", layer=1)
    assert ent["value"].tolist() == [0.5, 0.5]  # one per run
    scores = analysis.run_scores(frames, "validation", "accuracy")
    assert scores.iloc[0] == pytest.approx(0.25) and math.isnan(scores.iloc[1])


def test_integer_method_columns_without_tuning():
    """Methods told apart by int columns only (no tuned hyperparameter): the test numbers
    must come from the method's own runs (a row taken out of a frame turns 1 into 1.0)."""
    runs, rows = [], []
    for i, (layers, k, seed) in enumerate(
        (la, k, s) for la in (1, 2) for k in (1, 4) for s in (0, 1)
    ):
        run = f"r{i}"
        runs.append(
            {
                "run": run,
                "seed": seed,
                "status": "done",
                "diverged": False,
                "layers": layers,
                "explore_units": k,
                "lr": 0.01,
            }
        )
        value = layers / 10 + k / 100
        for split in ("validation", "test"):
            rows += [
                (run, 0, split, "accuracy", None, value),
                (run, 5, split, "accuracy", None, value),
            ]
    frames = Frames(pd.DataFrame(runs), pd.DataFrame(rows, columns=list(analysis.METRIC_COLUMNS)))
    sel = analysis.analyse(frames, Protocol())
    assert sel.tune == [] and sorted(sel.method) == ["explore_units", "layers"]
    got = {(r["layers"], r["explore_units"]): r["test_final"] for r in sel.table.to_dict("records")}
    assert got == pytest.approx({(1, 1): 0.11, (1, 4): 0.14, (2, 1): 0.21, (2, 4): 0.24})
    assert sel.table["label"].tolist() == ["L=1 k=1", "L=1 k=4", "L=2 k=1", "L=2 k=4"]


def test_figures_keep_a_rules_look_draw_chance_and_state_n():
    from coagentnet.analysis import plots
    from coagentnet.analysis.figures import Fig, draw

    spec = [(r.replace("A", "reinforce").replace("B", "off_policy"), *rest) for r, *rest in _spec()]
    frames = _frames(spec)
    frames.runs["dataset"] = "digits"
    sel = analysis.analyse(frames, Protocol())
    figure = draw(Fig("curves", "c", "curves"), frames, sel, Protocol())
    ax = figure.axes[0]
    colours = {line.get_label(): line.get_color() for line in ax.get_lines()}
    assert colours["reinforce"] == plots.style(plots.families().index("reinforce"))["color"]
    assert colours["off_policy"] == plots.style(plots.families().index("off_policy"))["color"]
    assert colours["chance (0.1)"] == plots.REFERENCE
    assert "n = 3 seeds" in figure._suptitle.get_text()
    sens = draw(Fig("sensitivity", "s", "lr", x="lr", log2=True), frames, sel, Protocol())
    assert {line.get_label() for line in sens.axes[0].get_lines()} >= {"chance (0.1)"}
    plots.plt.close("all")
