"""A tiny Bernoulli coagent network small enough for the exact oracle."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from coagentnet.config import Config
from coagentnet.rules.base import Problem, RuleContext
from coagentnet.rules.registry import make_rule

PROBLEM = Problem(in_dim=3, out_dim=3, task="classification")


def tiny_batch():
    """Four fixed episodes: ``x [4, 3]``, ``y [4]``."""
    x = jax.random.normal(jax.random.PRNGKey(11), (4, 3))
    return x, jnp.array([0, 1, 2, 1])


def tiny_rule(layers: int = 2, units: int = 2, scale: float = 2.5, **cfg_fields):
    """(rule, params, state) with weights scaled up so that policies are far from uniform."""
    cfg = Config(rule=cfg_fields.pop("rule", "reinforce"), layers=layers, units=units, **cfg_fields)
    rule = make_rule(cfg, PROBLEM)
    params, state = rule.init(jax.random.PRNGKey(3))
    for part in ("hidden", "readout"):
        params[part] = jax.tree.map(lambda w: scale * w, params[part])
    return cfg, rule, params, state


def network_part(tree: dict) -> dict:
    return {"hidden": tree["hidden"], "readout": tree["readout"]}


def flat(tree) -> jnp.ndarray:
    return jnp.concatenate([jnp.ravel(leaf) for leaf in jax.tree.leaves(tree)])


HYPER = {"lr": 1.0, "unit_std": 1.0, "critic_ratio": 2.0, "ema_decay": 0.99}
CTX = RuleContext(hyper=HYPER, epoch=0, step=0)
