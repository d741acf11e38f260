"""Plot functions draw on the axes they are given, return them, and save PNG + SVG."""

import matplotlib
import pandas as pd
import pytest

from coagentnet.analysis import plots


def _band(offset):
    return pd.DataFrame(
        {"step": [0, 10, 20], "mean": [0.1 + offset, 0.5, 0.7], "se": [0.0, 0.05, float("nan")]}
    )


def test_backend_is_non_interactive():
    assert matplotlib.get_backend().lower() == "agg"


def test_palette_is_okabe_ito():
    assert plots.PALETTE[:3] == ("#0072B2", "#E69F00", "#009E73")
    assert len(set(plots.PALETTE)) == len(plots.PALETTE)


def test_learning_curves_draws_a_line_and_band_per_label(tmp_path):
    fig, (ax,) = plots.new_figure(1)
    styles = {"b": 0, "a": 1}
    out = plots.learning_curves(
        ax, {"a": _band(0.0), "b": _band(0.1)}, ylabel="acc", title="t", styles=styles
    )
    assert out is ax
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    # Colours follow the style index, not the drawing order.
    assert ax.get_lines()[0].get_color() == plots.PALETTE[1]
    assert len(ax.collections) == 2  # one band each
    assert ax.get_legend() is not None and ax.get_ylabel() == "acc"
    paths = plots.save(fig, tmp_path / "sub" / "curves")
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in paths[1].read_bytes()[:2000]


def test_sensitivity_curve_uses_log2_and_marks_diverged_settings():
    table = pd.DataFrame(
        {
            "label": ["a", "a", "a"],
            "lr": [2.0**-10, 2.0**-8, 2.0**-6],
            "mean": [0.5, 0.7, 0.2],
            "se": [0.01, 0.02, 0.05],
            "diverged": [0, 0, 2],
        }
    )
    fig, (ax,) = plots.new_figure(1)
    assert plots.sensitivity_curve(ax, table, "lr", log2=True) is ax
    xs = ax.get_lines()[0].get_xdata()
    assert list(xs) == pytest.approx([-10, -8, -6])
    assert ax.get_xlabel() == "log2 lr"
    assert any("2 div." in t.get_text() for t in ax.texts)
    plots.plt.close(fig)


def test_empty_band_is_skipped():
    fig, (ax,) = plots.new_figure(1)
    plots.learning_curves(ax, {"empty": _band(0).iloc[:0]})
    assert ax.get_lines() == []
    plots.plt.close(fig)


def test_a_rule_keeps_its_look_whatever_else_is_drawn():
    one = plots.fixed_styles(["off_policy L=3", "reinforce L=3"])
    two = plots.fixed_styles(["backprop", "reinforce L=1", "actor_critic", "off_policy"])
    assert one["reinforce L=3"] == two["reinforce L=1"] == plots.families().index("reinforce")
    assert one["off_policy L=3"] == two["off_policy"]
    looks = {tuple(plots.style(i).items()) for i in range(len(plots.families()))}
    assert len(looks) == len(plots.families())  # every family its own colour-and-marker
    assert all(plots.style(i)["color"] != plots.REFERENCE for i in range(56))


def test_lines_of_one_rule_fall_back_to_the_order_of_appearance():
    # lines per d (or per layer) of one rule: the family would give them all one look
    assert plots.fixed_styles(["reinforce d=0.0", "reinforce d=0.5"]) == {
        "reinforce d=0.0": 0,
        "reinforce d=0.5": 1,
    }
    assert plots.fixed_styles(["A", "B"]) == {"A": 0, "B": 1}  # unknown families
