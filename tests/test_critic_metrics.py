"""Per-layer critic diagnostics (issue 22): the statistics, and that critic rules log them."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from coagentnet.config import Config
from coagentnet.rules.critic_metrics import correlation, explained_variance, layer_metrics
from coagentnet.training.run import train

Y = jax.random.normal(jax.random.PRNGKey(0), (64,))


def test_explained_variance():
    assert float(explained_variance(Y, Y)) == pytest.approx(1.0)
    assert float(explained_variance(jnp.full_like(Y, Y.mean()), Y)) == pytest.approx(0.0, abs=1e-6)
    assert float(explained_variance(-Y, Y)) == pytest.approx(-3.0, rel=1e-5)  # var(2y) / var(y)
    assert float(explained_variance(Y, jnp.ones_like(Y))) == 0.0  # constant target: 0, not nan


def test_correlation():
    assert float(correlation(2.0 * Y + 1.0, Y)) == pytest.approx(1.0, abs=1e-6)
    assert float(correlation(-Y, Y)) == pytest.approx(-1.0, abs=1e-6)
    assert float(correlation(jnp.ones_like(Y), Y)) == 0.0


def test_layer_metrics_shapes():
    noise = jax.random.normal(jax.random.PRNGKey(1), (64,))
    out = layer_metrics((Y, Y + noise), (Y, Y), (Y, noise), (Y, Y))
    assert {k: v.shape for k, v in out.items()} == {
        "critic_ev_target": (2,),
        "critic_ev_greedy": (2,),
        "signal_corr_greedy": (2,),
    }
    np.testing.assert_allclose(out["critic_ev_target"][0], 1.0, rtol=1e-6)
    assert out["critic_ev_target"][1] < 0.5 and abs(out["signal_corr_greedy"][1]) < 0.5


@pytest.mark.parametrize("rule", ["off_policy", "actor_critic"])
def test_critic_rules_log_the_diagnostics_per_layer(rule):
    cfg = Config(dataset="digits", rule=rule, layers=3, units=8, epochs=1, batch_size=64)
    final = train(cfg, 0).final
    for t in range(3):
        for name in ("critic_ev_target", "critic_ev_greedy", "signal_corr_greedy"):
            assert np.isfinite(final[f"training/{name}/{t}"])
    # The last hidden layer's target and signal are r, which is its exact greedy return.
    assert final["training/critic_ev_target/2"] == final["training/critic_ev_greedy/2"]
    assert final["training/signal_corr_greedy/2"] == pytest.approx(1.0, abs=1e-5)
    # Earlier layers' signals are critic outputs, not the exact return.
    assert final["training/signal_corr_greedy/0"] < 0.999


def test_other_rules_do_not_log_them():
    cfg = Config(dataset="digits", rule="greedy_return", layers=2, units=8, epochs=1)
    assert not [k for k in train(cfg, 0).final if "critic_ev" in k or "signal_corr" in k]


def test_the_critics_study_draws_the_diagnostics_per_layer(tmp_path):
    from coagentnet.analysis import frames as analysis
    from coagentnet.analysis.figures import draw
    from coagentnet.reproduce.studies import STUDIES
    from coagentnet.sweeps.plan import make_run
    from coagentnet.sweeps.store import Store
    from coagentnet.training.results import RunResult

    study = next(s for s in STUDIES if s.name == "mnist_deep")
    exp = next(e for e in study.experiments if e.file == "critics")
    names = ("critic_ev_target", "critic_ev_greedy", "signal_corr_greedy")
    figs = {f.metric: f for f in exp.figures if f.metric in names}
    assert sorted(figs) == sorted(names) and {f.split for f in figs.values()} == {"training"}
    with Store(tmp_path / "s.sqlite") as store:
        for rule in ("reinforce", "off_policy"):
            for seed in (0, 1):
                cfg = Config(dataset="digits", layers=2, units=8, rule=rule)
                rows = [(step, "validation", "accuracy", None, 0.1 * step) for step in (0, 1, 2)]
                rows += [(step, "test", "accuracy", None, 0.1 * step) for step in (0, 1, 2)]
                if rule == "off_policy":
                    rows += [
                        (step, "training", name, t, 0.5)
                        for step in (1, 2)
                        for name in names
                        for t in range(2)
                    ]
                store.finish(make_run(cfg, seed), RunResult(cfg, seed, False, rows, {}, 2))
        frames = analysis.load(store)
    sel = analysis.analyse(frames, exp.protocol, label_keys=exp.labels)
    for fig in figs.values():
        drawn = draw(fig, frames, sel, exp.protocol)
        assert drawn is not None
        texts = [line.get_label() for ax in drawn.axes for line in ax.get_lines()]
        assert "layer 0" in texts and "layer 1" in texts
