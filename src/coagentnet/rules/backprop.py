"""Backprop: the deterministic MLP of the same architecture, the reference every coagent rule
is compared with."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from coagentnet.model.losses import task_loss
from coagentnet.model.network import init_linear, linear
from coagentnet.rules.base import Problem, Rule, RuleSettings, prediction_stats

_ACTIVATIONS = {"relu": jax.nn.relu, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid}


def backprop_rule(cfg: RuleSettings, problem: Problem) -> Rule:
    """Deterministic MLP of the same architecture trained end to end; L = 0 is linear."""
    act = _ACTIVATIONS[cfg.activation]

    def init(key):
        keys = jax.random.split(key, cfg.layers + 1)
        dims = (problem.in_dim,) + (cfg.units,) * cfg.layers
        hidden = tuple(
            init_linear(k, a, b) for k, a, b in zip(keys, dims[:-1], dims[1:], strict=False)
        )
        return {"hidden": hidden, "readout": init_linear(keys[-1], dims[-1], problem.out_dim)}, {}

    def forward(params, x):
        for layer in params["hidden"]:
            x = act(linear(layer, x))
        return linear(params["readout"], x)

    def loss(params, state, x, y, key, ctx):
        value = jnp.mean(task_loss(problem.task, forward(params, x), y))
        return value, (state, {"loss": value, "reward": -value})

    def evaluate(params, x, y, key, hyper, greedy):
        return prediction_stats(problem, forward(params, x), y)

    return Rule(init, loss, evaluate)
