"""The straight-through rules: Bernoulli units, the sample's gradient replaced by a surrogate
(Bengio et al. 2013; the authors' gated variant)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from coagentnet.model.losses import task_loss
from coagentnet.model.network import init_network, linear, rollout
from coagentnet.model.units import unit_type
from coagentnet.rules.base import Problem, Rule, RuleSettings, trace_stats


def straight_through_rule(cfg: RuleSettings, problem: Problem, gated: bool) -> Rule:
    """Bernoulli units sampled forward, gradient passed through the sample backward.

    Standard (Bengio et al. 2013): d a / d z := sigmoid'(z). Gated (the authors' variant,
    ``straight_through_gated``): d a / d z := a, the sampled bit, without sigmoid'. Both are
    biased estimators of the expected-loss gradient. Evaluation is greedy (or sampled).
    """
    unit = unit_type("bernoulli")

    def init(key):
        params = init_network(key, problem.in_dim, problem.out_dim, cfg.layers, cfg.units, unit)
        return params, {}

    def forward(params, x, key):
        s = x
        keys = jax.random.split(key, max(cfg.layers, 1))
        for t, layer in enumerate(params["hidden"]):
            z = linear(layer, s)
            bit = jax.random.bernoulli(keys[t], jax.nn.sigmoid(z)).astype(z.dtype)
            # Forward value is the bit; the stop-gradient pair carries the chosen derivative.
            surrogate = z * bit if gated else jax.nn.sigmoid(z)
            s = bit + surrogate - jax.lax.stop_gradient(surrogate)
        return linear(params["readout"], s)

    def loss(params, state, x, y, key, ctx):
        per_example = task_loss(problem.task, forward(params, x, key), y)
        value = jnp.mean(per_example)
        return value, (state, {"loss": value, "reward": -value})

    def evaluate(params, x, y, key, hyper, greedy):
        trace = rollout(params, x, key, unit, 1.0, greedy=greedy)
        return trace_stats(problem, trace, y, unit)

    return Rule(init, loss, evaluate)
