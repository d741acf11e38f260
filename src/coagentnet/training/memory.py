"""How much memory one population member needs, from the shapes of its real state.

The state's shapes come from :func:`jax.eval_shape` of the rule's and optimiser's own
initialisers (nothing is allocated, nothing runs on a device), so a new rule, unit type or
baseline is sized correctly without this module knowing about it. Activations, which only
exist inside the compiled programs, are estimated from the unit type's width and the batch
and evaluation chunk sizes. The planner (:mod:`coagentnet.sweeps.plan`) sizes populations with
:func:`member_bytes`; the benchmark reports :func:`tree_bytes` of its populations' state.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from coagentnet.config import Config
from coagentnet.data import dataset_shape
from coagentnet.model.units import units_from_config
from coagentnet.rules.base import Problem
from coagentnet.rules.registry import make_rule
from coagentnet.training.batches import STREAM_PROBLEM
from coagentnet.training.evaluation import MAX_CHUNK
from coagentnet.training.optim import make_optimizer

#: Head-room for XLA temporaries and fragmentation on top of the counted arrays.
SAFETY = 2.0
_F32 = 4


def tree_bytes(tree) -> int:
    """Bytes of every array (or ``ShapeDtypeStruct``) leaf of ``tree``."""
    return sum(math.prod(x.shape) * jnp.dtype(x.dtype).itemsize for x in jax.tree.leaves(tree))


def problem_and_examples(cfg: Config) -> tuple[Problem, int]:
    """The :class:`Problem` of ``cfg`` and the examples of its data set, without loading it
    (the stream is generated; its evaluation runs in chunks of ``MAX_CHUNK``)."""
    if cfg.is_stream:
        return STREAM_PROBLEM, MAX_CHUNK
    task, in_dim, out_dim, examples = dataset_shape(cfg.dataset)
    return Problem(in_dim, out_dim, task), examples


def state_bytes(cfg: Config) -> int:
    """Bytes of one member's parameters, gradients, rule state and optimiser state."""
    problem, _ = problem_and_examples(cfg)
    rule, tx = make_rule(cfg, problem), make_optimizer(cfg)

    def init(key):
        params, rule_state = rule.init(key)
        return params, rule_state, tx.init(params)

    params, rule_state, opt_state = jax.eval_shape(init, jax.ShapeDtypeStruct((2,), jnp.uint32))
    return 2 * tree_bytes(params) + tree_bytes(rule_state) + tree_bytes(opt_state)


def member_bytes(cfg: Config) -> int:
    """Rough peak bytes one population member adds, for sizing populations.

    Counts the state (:func:`state_bytes`), training activations ``[B, width]`` per layer,
    greedy evaluation of one chunk ``[min(N, MAX_CHUNK), width]``, and the member's epoch
    permutation ``[N]``. The data arrays themselves are shared by all members and not counted.
    """
    problem, n = problem_and_examples(cfg)
    d, c, u, layers = problem.in_dim, problem.out_dim, cfg.units, cfg.layers
    policy = units_from_config(cfg).width(u)  # pre-activations of one layer per example
    critic_act = layers * cfg.critic_width * cfg.critic_depth if cfg.has_critics else 0
    train_act = cfg.batch_size * (d + layers * (policy + 4 * u) + c + critic_act) * 3
    eval_act = min(n, MAX_CHUNK) * (layers * (policy + u) + c)
    return int(SAFETY * (state_bytes(cfg) + _F32 * (train_act + eval_act + n)))


def samples_bytes(cfg: Config, samples: int) -> int:
    """Rough bytes of ``samples`` independent updates held at once (a gradient and a batch's
    activations each): ``grad_diagnostics`` R, ``coagentnet diagnose --samples``."""
    problem, _ = problem_and_examples(cfg)
    layers, u, c = cfg.layers, cfg.units, problem.out_dim
    policy = units_from_config(cfg).width(u)
    act = cfg.batch_size * (problem.in_dim + layers * (policy + 4 * u) + c)
    return int(SAFETY * samples * (state_bytes(cfg) + _F32 * act))


def check_bytes(cfg: Config) -> int:
    """What the memory pre-check counts for one member (not the planner: populations are
    sized by :func:`member_bytes` alone): :func:`member_bytes` with the leave-one-out
    baseline's S rollouts and ``grad_diagnostics``' R gradients at once."""
    need = member_bytes(cfg)
    if cfg.baseline == "loo" and cfg.is_coagent:
        need *= max(1, cfg.loo_samples)
    if cfg.grad_diagnostics:
        need += samples_bytes(cfg, cfg.grad_diagnostics)
    return need
