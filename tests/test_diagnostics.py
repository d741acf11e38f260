"""Estimator diagnostics (issue 13): the vmapped variance estimate, SNR and cosine."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from coagentnet.diagnostics import estimators, references
from coagentnet.model import exact
from coagentnet.model.baselines import EmaState
from conftest import refused

from tiny import CTX, PROBLEM, tiny_rule

#: A pool of 16 fixed examples; each estimate draws a minibatch of 4 of them.
POOL_X = jax.random.normal(jax.random.PRNGKey(7), (16, 3))
POOL_Y = jnp.arange(16) % 3
BATCH = 4
diagnose = jax.jit(estimators.diagnose, static_argnums=(0, 7, 8))


def _stats(rule, params, state, samples, key=0, reference=None):
    k = jax.random.PRNGKey(key)
    return diagnose(rule, params, state, POOL_X, POOL_Y, k, CTX, samples, BATCH, reference)


@pytest.mark.slow
def test_variance_agrees_with_independent_calls():
    _, rule, params, state = tiny_rule()
    stats = _stats(rule, params, state, 2000)
    # The direct way: separate calls, minibatches drawn by NumPy, variance by NumPy.
    grad = jax.jit(
        lambda x, y, k: estimators.layer_vectors(
            jax.grad(rule.loss, has_aux=True)(params, state, x, y, k, CTX)[0]
        )
    )
    rng = np.random.default_rng(0)
    direct = []
    for i in range(600):
        idx = rng.choice(16, BATCH, replace=False)
        direct.append(grad(POOL_X[idx], POOL_Y[idx], jax.random.PRNGKey(10_000 + i)))
    for t in range(len(direct[0])):
        g = np.stack([np.asarray(d[t], np.float64) for d in direct])
        sq = np.sum((g - g.mean(axis=0)) ** 2, axis=1)
        var, se = sq.sum() / (len(g) - 1), sq.std(ddof=1) / np.sqrt(len(g))
        diff = abs(float(stats.variance[t]) - var)
        # Two independent estimates of one trace: within 4 standard errors of their difference.
        assert diff < 4 * np.hypot(se, float(stats.variance_se[t])), (t, var, stats.variance[t])


def test_snr_with_a_baseline_exceeds_that_without():
    _, rule, params, state = tiny_rule()
    _, rule_ema, _, state_ema = tiny_rule(baseline="ema")
    mean_reward = -float(exact.expected_loss(params, POOL_X, POOL_Y, PROBLEM.task))
    state_ema = {**state_ema, "baseline": EmaState(jnp.asarray(mean_reward), jnp.asarray(True))}
    plain = _stats(rule, params, state, 200)
    based = _stats(rule_ema, params, state_ema, 200)
    hidden = slice(0, -1)  # the read-out's own gradient takes no baseline
    assert np.all(np.asarray(based.snr[hidden]) > np.asarray(plain.snr[hidden])), (
        plain.snr,
        based.snr,
    )
    assert np.all(np.asarray(based.variance[hidden]) < np.asarray(plain.variance[hidden]))


@pytest.mark.slow
@pytest.mark.parametrize("baseline", ["none", "ema", "loo"])
def test_cosine_near_one_for_unbiased_rules(baseline):
    cfg, rule, params, state = tiny_rule(baseline=baseline)
    ref = references.exact_reference(cfg, PROBLEM, params, POOL_X, POOL_Y)
    R = 20_000
    stats = _stats(rule, params, state, R, reference=ref)
    # m = g + e with cov(e) = Sigma / R: 1 - cos is about |e_perp|^2 / (2 |g|^2), whose mean is
    # below variance / (2 R |m|^2); allow 5 times that.
    tol = 5 * np.asarray(stats.variance) / (2 * R * np.asarray(stats.mean_norm) ** 2)
    assert np.all(1 - np.asarray(stats.cosine) < tol), (stats.cosine, tol)


def test_cosine_detects_a_biased_direction():
    # Negative control: against a reference rotated away from the exact gradient (its hidden
    # layers' signs flipped coordinate by coordinate), the same estimates fail the tolerance.
    cfg, rule, params, state = tiny_rule()
    ref = references.exact_reference(cfg, PROBLEM, params, POOL_X, POOL_Y)
    flipped = tuple(r.at[::2].multiply(-1.0) for r in ref)
    R = 2000
    stats = _stats(rule, params, state, R, reference=flipped)
    tol = 5 * np.asarray(stats.variance) / (2 * R * np.asarray(stats.mean_norm) ** 2)
    assert np.any(1 - np.asarray(stats.cosine) > tol), stats.cosine


def test_off_policy_reference_is_the_greedy_objective():
    cfg, _, params, _ = tiny_rule(rule="off_policy")
    ref = references.exact_reference(cfg, PROBLEM, params, POOL_X, POOL_Y)
    net = {"hidden": params["hidden"], "readout": params["readout"]}
    g0 = jax.grad(exact.greedy_objective)(net, POOL_X, POOL_Y, 0, PROBLEM.task)["hidden"][0]
    expected = -jnp.concatenate([g0["w"].ravel(), g0["b"].ravel()])
    np.testing.assert_allclose(ref[0], expected, rtol=1e-6)
    plain = references.exact_reference(
        cfg.replace(rule="reinforce"), PROBLEM, params, POOL_X, POOL_Y
    )
    np.testing.assert_allclose(ref[-1], plain[-1])  # the read-out follows the expected loss


def test_sampled_reference_matches_exact_within_its_se():
    cfg, _, params, _ = tiny_rule()
    ref = references.exact_reference(cfg, PROBLEM, params, POOL_X, POOL_Y)
    mean, se = references.sampled_reference(
        cfg, PROBLEM, params, POOL_X, POOL_Y, jax.random.PRNGKey(1), dict(CTX.hyper), 32, 64
    )
    for m, s, r in zip(mean, se, ref, strict=True):
        z = np.abs(np.asarray(m) - np.asarray(r)) / np.maximum(np.asarray(s), 1e-9)
        assert z.max() < 4.5, z.max()  # Bonferroni over the ~10 coordinates of a layer


def test_exact_reference_limit():
    from coagentnet.config import Config

    assert references.exact_unavailable(Config(units=8)) is None
    assert "at most 8" in references.exact_unavailable(Config(units=9))
    assert "bernoulli" in references.exact_unavailable(Config(unit_type="gaussian"))


@pytest.mark.slow
def test_diagnose_json(capsys):
    import json

    from coagentnet.cli import main

    argv = ["diagnose", "--layers", "2", "--units", "4", "--epochs", "1", "--samples", "8"]
    assert main(argv + ["--reference", "exact", "--pool", "64", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["layer"] for row in out["layers"]] == ["0", "1", "readout"]
    assert out["samples"] == 8 and out["reference"] == "exact"
    for row in out["layers"]:
        assert row["variance"] > 0 and row["snr"] > 0 and -1 <= row["cosine"] <= 1


class _Seen(Exception):
    """Stops ``diagnose`` once it has handed its minibatch pool over."""


@pytest.mark.parametrize("input_range", ["symmetric", "unit"])
def test_diagnose_sees_the_arrays_training_sees(monkeypatch, input_range):
    from coagentnet.cli import main
    from coagentnet.config import Config
    from coagentnet.diagnostics import measure
    from coagentnet.training.batches import training_data
    from coagentnet.training.data_cache import config_data

    def seen(cfg, problem, rule, params, state, pool, *rest):
        raise _Seen(pool)

    monkeypatch.setattr(measure, "diagnose_layers", seen)
    argv = ["diagnose", "--units", "4", "--split-seed", "3", "--input-range", input_range]
    with pytest.raises(_Seen) as info:
        main(argv + ["--pool", "64"])
    cfg = Config(units=4, split_seed=3, input_range=input_range)
    arrays = training_data(cfg, config_data(cfg)).train_arrays  # what the training steps read
    x, y = arrays["x"], arrays["y"]
    pool_x, pool_y = info.value.args[0]
    np.testing.assert_array_equal(pool_x, x[:64])
    np.testing.assert_array_equal(pool_y, y[:64])
    assert (np.min(pool_x) < 0) == (input_range == "symmetric")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--samples", "1"], "--samples: R must be >= 2"),
        (["--units", "9", "--reference", "exact"], "at most 8 units per layer"),
        (["--baseline", "loo", "--loo-samples", "1"], "loo_samples: the loo baseline needs S >= 2"),
        (["--rule", "backprop", "--baseline", "loo"], "baseline: only policy-gradient rules"),
    ],
)
def test_diagnose_bad_input_is_one_line_exit_2(capsys, argv, message):
    refused(capsys, ["diagnose", *argv], message)


@pytest.mark.slow
def test_training_records_grad_metrics_without_changing_the_others():
    import math

    from coagentnet.config import Config
    from coagentnet.training.loop import train_population

    cfg = Config(dataset="digits", layers=1, units=4, epochs=1, grad_diagnostics=4)
    with_diag = train_population([cfg], [0])[0]
    plain = train_population([cfg.replace(grad_diagnostics=0)], [0])[0]
    grad_rows = [r for r in with_diag.metrics if r[2].startswith("grad_")]
    assert {(r[0], r[2], r[3]) for r in grad_rows if r[1] == "train"} == {
        (step, name, layer)
        for step in (0, plain.updates)
        for name in ("grad_var", "grad_snr", "grad_cos")
        for layer in (0, 1)
    }
    # measured on the train split's pool only: no placeholder rows for the other splits
    assert all(r[1] == "train" and math.isfinite(r[4]) for r in grad_rows)
    assert all(math.isfinite(v) for v in with_diag.final.values())
    assert [r for r in with_diag.metrics if not r[2].startswith("grad_")] == plain.metrics


@pytest.mark.slow
def test_a_swept_run_with_diagnostics_is_complete_and_not_rerun(tmp_path, monkeypatch, capsys):
    # Its final values once held NaN placeholders, stored as the non-JSON token NaN: the store
    # then read the finished run as pending, and every sweep trained it again.
    from coagentnet.cli import main
    from coagentnet.sweeps.store import Store

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COAGENTNET_TRAINER", raising=False)
    (tmp_path / "s.yaml").write_text(
        "base: {dataset: digits, layers: 1, units: 4, epochs: 1, grad_diagnostics: 4}\nseeds: 2\n"
    )
    assert main(["sweep", "s.yaml", "--no-progress"]) == 0
    with Store(tmp_path / "results" / "s.sqlite", readonly=True) as store:
        assert sorted(store.statuses().values()) == ["done", "done"]
    capsys.readouterr()
    assert main(["sweep", "s.yaml", "--no-progress"]) == 0
    assert "0 to run" in capsys.readouterr().err


@pytest.mark.parametrize(
    "fields", [dict(grad_diagnostics=1), dict(rule="backprop", grad_diagnostics=8)]
)
def test_grad_diagnostics_bad_values(fields):
    from coagentnet.config import Config, ConfigError

    with pytest.raises(ConfigError, match="grad_diagnostics: needs R >= 2"):
        Config(**fields)
