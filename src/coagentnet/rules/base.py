"""What every learning rule is: :class:`Problem`, :class:`Rule`, :class:`RuleContext`,
:class:`RuleSettings`, and the per-example statistics the rules share (Gupta et al. 2021).

A :class:`Rule` is three pure functions (and an optional step mask):

- ``init(key) -> (params, state)``: learned parameters (network, critics, baselines) and
  non-learned state (the ema baseline);
- ``loss(params, state, x, y, key, ctx) -> (scalar, (new_state, metrics))``: a surrogate whose
  gradient is the rule's update; ``ctx`` is a :class:`RuleContext`;
- ``evaluate(params, x, y, key, hyper, greedy) -> stats``: per-example statistics of a
  forward pass, greedy (every unit takes its most likely action) or sampled: ``loss [B]``,
  ``correct [B]`` (classification) and, for stochastic layers, ``entropy`` and ``on`` (the
  greedy output), tuples of L arrays ``[B, U]``. The training loop reduces them.

``metrics`` of ``loss`` map names to scalars or ``[L]`` arrays (one value per hidden layer).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import jax
import jax.numpy as jnp

from coagentnet.model.losses import task_loss
from coagentnet.model.network import Trace
from coagentnet.model.units import Units


@dataclass(frozen=True)
class Problem:
    """Shapes of the task: input width, output width and ``classification``/``regression``."""

    in_dim: int
    out_dim: int
    task: str


class RuleSettings(Protocol):
    """The run settings the built-in rules read; a :class:`coagentnet.config.Config` is one.

    The rules are annotated with this rather than with ``Config`` because the config reads the
    rule registry (to check each rule's options), which imports the rules: a rule importing the
    config, even only for annotations, would close that cycle. A test checks each attribute
    against the ``Config`` field of the same name."""

    dataset: str
    layers: int
    units: int
    unit_type: str
    num_actions: int
    value_map: str
    activation: str
    stochastic_readout: bool
    partition: str
    rule: str
    baseline: str
    loo_samples: int
    critic_width: int
    critic_depth: int
    actor_signal: str
    warm_start_epochs: int
    explore_units: int
    explore_resample: str
    staged: bool
    epsilon_schedule: str
    epochs: int


class RuleContext(NamedTuple):
    """What a rule's ``loss`` may know about the update besides the batch.

    ``hyper``: the member's population scalars (name -> scalar array); ``epoch``: the current
    epoch; ``step``: the 0-based update index. All may be traced.
    """

    hyper: Mapping[str, jax.Array]
    epoch: jax.Array | int
    step: jax.Array | int


class Rule(NamedTuple):
    init: Callable
    loss: Callable
    evaluate: Callable
    mask_steps: Callable | None = None
    """Optional ``(steps, ctx) -> steps`` applied to the optimiser's steps before they are
    added to the parameters (staged training zeroes its frozen layers' steps there)."""
    step_scales: tuple[tuple[str, str], ...] = ()
    """The parameter groups whose step size differs from the network's: ``(group, scalar)``
    pairs, a top-level parameter key and the population scalar its steps are multiplied by
    (the critic rules declare ``("critics", "critic_ratio")``); every other group steps at
    ``lr``. The optimiser is built from this declaration (``training.optim.scale_updates``)."""


def prediction_stats(problem: Problem, prediction: jax.Array, y: jax.Array) -> dict:
    """Per-example ``loss [B]`` and, for classification, ``correct [B]`` of ``prediction``."""
    stats = {"loss": task_loss(problem.task, prediction, y)}
    if problem.task == "classification":
        stats["correct"] = (jnp.argmax(prediction, axis=-1) == y).astype(jnp.float32)
    return stats


def trace_stats(problem: Problem, trace: Trace, y: jax.Array, unit: Units) -> dict:
    """Per-example statistics of a rollout: loss, correctness, per-layer unit entropies and
    greedy outputs (tuples of L arrays ``[B, U]``)."""
    return {
        **prediction_stats(problem, trace.prediction, y),
        "entropy": trace.entropy,
        "on": tuple(unit.value(g) for g in trace.greedy),
    }
