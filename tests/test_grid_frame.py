"""``cn.grid`` crosses config axes with seeds (never pairs them); ``cn.frame`` puts many runs in
one long DataFrame with the fields that tell them apart."""

from __future__ import annotations

import pytest

import coagentnet as cn
from coagentnet.training.results import RunResult


def test_grid_is_the_product_of_the_axes_and_the_seeds():
    cfg = cn.Config(dataset="digits", rule="reinforce", units=4, epochs=1)
    configs, seeds = cn.grid(cfg, lr=[0.1, 0.2], ema_decay=[0.5, 0.9], seed=[0, 1, 2])
    assert len(configs) == len(seeds) == 12
    got = [(c.lr, c.ema_decay, s) for c, s in zip(configs, seeds, strict=True)]
    assert got == [(a, b, s) for a in (0.1, 0.2) for b in (0.5, 0.9) for s in (0, 1, 2)]
    assert cn.grid(cfg) == ([cfg], [0])
    assert cn.grid(cfg, seed=7) == ([cfg], [7])
    with pytest.raises(cn.ConfigError, match="lr"):
        cn.grid(cfg, lr=[-1.0])
    with pytest.raises(cn.ConfigError, match="grid: nope: not a Config field"):
        cn.grid(cfg, nope=[1])
    with pytest.raises(TypeError, match="grid axis lr: give a list"):
        cn.grid(cfg, lr=0.1)


def test_frame_stacks_runs_with_the_fields_that_differ():
    cfg = cn.Config(dataset="digits", rule="reinforce", units=4, epochs=1)
    rows = [(0, "test", "accuracy", None, 0.1), (1, "test", "entropy", 0, 0.5)]
    results = [
        RunResult(cfg.replace(lr=lr), seed, False, metrics=rows)
        for lr, seed in ((0.1, 0), (0.2, 1))
    ]
    frame = cn.frame(results)
    assert list(frame.columns) == [
        "run", "rule", "lr", "seed", "diverged", "step", "split", "metric", "layer", "value",
    ]  # fmt: skip
    assert len(frame) == 4
    assert frame.groupby("run")["lr"].first().tolist() == [0.1, 0.2]
    assert frame["seed"].tolist() == [0, 0, 1, 1]
    assert cn.frame(results, fields=["units"]).columns[1] == "units"
    with pytest.raises(ValueError, match="no results"):
        cn.frame([])
