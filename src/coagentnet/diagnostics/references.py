"""Reference directions for :mod:`coagentnet.diagnostics.estimators`: what a rule's update is
compared with.

All references are *descent* directions in the update's convention: gradients of a loss.

- ``exact``: on networks small enough to enumerate (:mod:`coagentnet.model.exact`: Bernoulli
  units, at most :data:`EXACT_MAX_UNITS` per layer, no partition, deterministic read-out), the
  exact gradient of the expected loss over the pool; for ``off_policy`` the hidden layer t
  part is instead minus the gradient of layer t's greedy-continuation objective (Gupta et al.
  2021), what that rule follows with exact critics.
- ``sampled``: on any plain network, a large-sample estimate of the expected loss's gradient
  over the pool: REINFORCE on every pool example, K rollouts each, with the leave-one-out
  baseline over the K (unbiased, and per example rather than one constant), repeated G times
  with fresh noise; its standard error is std / sqrt(G) per coordinate.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from coagentnet.config import Config
from coagentnet.diagnostics.estimators import layer_vectors
from coagentnet.model import exact
from coagentnet.rules.base import Problem, RuleContext
from coagentnet.rules.registry import make_rule

#: Largest layer width the exact reference enumerates (2^U configurations, 4^U transitions).
EXACT_MAX_UNITS = 8


def exact_unavailable(cfg: Config) -> str | None:
    """Why the exact reference cannot be computed for ``cfg`` (``None`` if it can)."""
    if cfg.unit_type != "bernoulli":
        return f"needs bernoulli units, not {cfg.unit_type!r}"
    if cfg.units > EXACT_MAX_UNITS:
        return f"enumerates at most {EXACT_MAX_UNITS} units per layer, got {cfg.units}"
    if cfg.layers < 1 or cfg.partition or cfg.stochastic_readout:
        return "needs a plain network of stochastic layers with a deterministic read-out"
    return None


def exact_reference(cfg: Config, problem: Problem, params: dict, x, y) -> tuple:
    """Per-layer exact reference ``[D_t]`` on the pool ``x, y`` (see the module docstring)."""
    net = {"hidden": params["hidden"], "readout": params["readout"]}
    grads = layer_vectors(jax.grad(exact.expected_loss)(net, x, y, problem.task))
    if cfg.rule != "off_policy":
        return grads
    hidden = tuple(
        -layer_vectors(jax.grad(exact.greedy_objective)(net, x, y, t, problem.task))[t]
        for t in range(cfg.layers)
    )
    return hidden + grads[-1:]


def sampled_reference(
    cfg: Config,
    problem: Problem,
    params: dict,
    x,
    y,
    key: jax.Array,
    hyper: dict,
    rollouts: int = 16,
    repeats: int = 16,
) -> tuple[tuple, tuple]:
    """``(mean, se)``: per layer ``[D_t]`` estimates of the expected loss's gradient on the
    pool ``x [N, D], y`` and their standard errors, from ``repeats`` independent REINFORCE +
    leave-one-out estimates of ``rollouts`` rollouts per pool example."""
    plain = Config(
        dataset=cfg.dataset,
        epochs=cfg.epochs,  # the stream: 1
        layers=cfg.layers,
        units=cfg.units,
        unit_type=cfg.unit_type,
        num_actions=cfg.num_actions,
        value_map=cfg.value_map,
        activation=cfg.activation,
        stochastic_readout=cfg.stochastic_readout,
        partition=cfg.partition,
        rule="reinforce",
        baseline="loo",
        loo_samples=rollouts,
    )
    net = {"hidden": params["hidden"], "readout": params["readout"]}
    return _sampled_program(plain, problem, repeats)(net, x, y, key, hyper)


def drop_compiled() -> None:
    """Forget the compiled reference estimators (a rule was registered again)."""
    _sampled_program.cache_clear()


@functools.lru_cache(maxsize=16)
def _sampled_program(plain: Config, problem: Problem, repeats: int):
    """The compiled reference estimator of one network shape (built once per shape)."""
    rule = make_rule(plain, problem)
    _, state = rule.init(jax.random.PRNGKey(0))

    def program(net, x, y, key, hyper):
        ctx = RuleContext(hyper=hyper, epoch=0, step=0)

        def one(k):
            grads, _ = jax.grad(rule.loss, has_aux=True)(
                {**net, "baseline": {}}, state, x, y, k, ctx
            )
            return layer_vectors(grads)

        estimates = jax.lax.map(one, jax.random.split(key, repeats))  # sequential: bounded memory
        mean = tuple(jnp.mean(g, axis=0) for g in estimates)
        se = tuple(jnp.std(g, axis=0, ddof=1) / jnp.sqrt(repeats) for g in estimates)
        return mean, se

    return jax.jit(program)
