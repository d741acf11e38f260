"""Figures share one method -> colour map; a method's layers differ in line style and shade,
not in other methods' colours; a panel that does not apply (backprop's unit entropy) is left
out; accuracy panels carry the chance line."""

from __future__ import annotations

import pandas as pd
from matplotlib.colors import to_hex

from coagentnet.analysis import frames as analysis
from coagentnet.analysis import plots
from coagentnet.analysis.figures import Fig, draw
from coagentnet.analysis.frames import Frames, Protocol

RULES = ("backprop", "reinforce", "off_policy")


def _frames() -> Frames:
    """Three rules x two lr x two seeds on digits; per-layer entropy for the coagent rules only
    (backprop has no stochastic units)."""
    runs, rows = [], []
    for rule in RULES:
        for lr in (0.01, 0.1):
            for seed in (0, 1):
                run = f"{rule}-{lr}-{seed}"
                runs.append({"run": run, "seed": seed, "status": "done", "diverged": False,
                             "rule": rule, "lr": lr, "dataset": "digits", "layers": 2})  # fmt: skip
                for step in (0, 10, 20):
                    for split in ("validation", "test"):
                        rows.append((run, step, split, "accuracy", None, 0.1 + step * lr))
                    if rule != "backprop":
                        for layer in (0, 1, 2):
                            rows.append((run, step, "train", "entropy", layer, 0.6 - 0.01 * step))
    return Frames(pd.DataFrame(runs), pd.DataFrame(rows, columns=list(analysis.METRIC_COLUMNS)))


def _colours(figure) -> dict[str, str]:
    """Legend label -> colour of every line (plain lines and error-bar lines)."""
    out = {}
    for ax in figure.axes:
        for line in ax.get_lines():
            if not line.get_label().startswith("_"):
                out[line.get_label()] = to_hex(line.get_color())
        for bars in ax.containers:  # errorbar: the label is the container's
            out[bars.get_label()] = to_hex(bars.lines[0].get_color())
    return out


def test_one_method_keeps_one_colour_across_figures_and_layers_differ_by_style():
    frames = _frames()
    sel = analysis.analyse(frames, Protocol())
    curves = draw(Fig("curves", "c", "curves"), frames, sel, Protocol())
    sens = draw(Fig("sensitivity", "s", "lr", x="lr", log2=True), frames, sel, Protocol())
    layers = draw(Fig("layers", "e", "entropy", split="train", metric="entropy"),
                  frames, sel, Protocol())  # fmt: skip
    try:
        c = _colours(curves)
        s = {k.split(" ")[0]: v for k, v in _colours(sens).items()}  # "(selected lr at ...)"
        for rule in RULES:
            assert c[rule] == s[rule] == to_hex(plots.method_colour(rule))
        assert len({c[r] for r in RULES}) == 3
        assert c["chance (0.1)"] == s["chance"] == to_hex(plots.REFERENCE)
        # per-layer panels: the method's colour (full for layer 0, shades after), layers
        # told apart by line style; no other method's colour appears in its panel
        for ax in layers.axes:
            if not ax.get_visible():
                continue
            rule = ax.get_title()
            lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("layer")]
            assert len(lines) == 3
            assert to_hex(lines[0].get_color()) == to_hex(plots.method_colour(rule))
            assert len({ln.get_linestyle() for ln in lines}) == 3
            others = {to_hex(plots.method_colour(r)) for r in RULES if r != rule}
            assert not {to_hex(ln.get_color()) for ln in lines} & others
    finally:
        plots.plt.close("all")


def test_a_panel_that_does_not_apply_is_left_out():
    frames = _frames()
    sel = analysis.analyse(frames, Protocol())
    figure = draw(Fig("layers", "e", "entropy", split="train", metric="entropy"),
                  frames, sel, Protocol())  # fmt: skip
    try:
        titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
        assert titles == ["reinforce", "off_policy"]  # no empty backprop panel
    finally:
        plots.plt.close("all")
    only_backprop = Frames(frames.runs[frames.runs["rule"] == "backprop"], frames.metrics)
    sel = analysis.analyse(only_backprop, Protocol())
    fig = Fig("layers", "e", "entropy", split="train", metric="entropy")
    assert draw(fig, only_backprop, sel, Protocol()) is None  # nothing applies: no figure


def test_looks_shade_and_restyle_one_methods_lines_only():
    got = plots.looks([("reinforce d=0.0", "reinforce"), ("reinforce d=0.5", "reinforce"),
                       ("backprop", "backprop")])  # fmt: skip
    a, b = got[("reinforce d=0.0", "reinforce")], got[("reinforce d=0.5", "reinforce")]
    assert to_hex(a["color"]) == to_hex(plots.method_colour("reinforce")) != to_hex(b["color"])
    assert a["ls"] != b["ls"] and a["marker"] == b["marker"]
    assert to_hex(got[("backprop", "backprop")]["color"]) == to_hex(plots.method_colour("backprop"))
