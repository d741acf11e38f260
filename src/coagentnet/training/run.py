"""The entry point of training: a population's run is planned as phases (one, or backprop
pretraining then the rule when its configs ask for it, ``pretrain_epochs > 0``) and trained by
the one loop, phase after phase (:mod:`coagentnet.training.phases`).

Sweeps, the ``train`` verb and the studies call :func:`run_population`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from coagentnet.config import Config
from coagentnet.config.limits import MAX_SEED
from coagentnet.errors import ConfigError
from coagentnet.training import pretrain
from coagentnet.training.checkpoint import Checkpointer
from coagentnet.training.compile_cache import enable_compile_cache
from coagentnet.training.loop import check_population
from coagentnet.training.phases import Phase, merge, run_phases
from coagentnet.training.results import RunResult


def run_population(
    configs: Sequence[Config],
    seeds: Sequence[int],
    *,
    progress: Callable[[int], None] | None = None,
    data=None,
    keep_params: bool = False,
    checkpoint: Checkpointer | None = None,
    on_evaluation: Callable[[int, list[dict[str, float]]], None] | None = None,
) -> list[RunResult]:
    """Train P = len(configs) networks as one population; member i uses configs[i], seeds[i].

    The contract of :func:`~coagentnet.training.loop.train_population` (configs share
    :meth:`Config.static_key`; ``progress(updates)`` after each epoch; ``data`` overrides
    loading the data set; ``keep_params``; ``checkpoint`` to resume from and save to;
    ``on_evaluation(step, members)`` after every evaluation, for live curves), for every
    config, pretraining included (its evaluations first, steps continuing into fine-tuning).
    The JAX compilation cache is switched on first (:mod:`coagentnet.training.compile_cache`).
    """
    for i, seed in enumerate(seeds):  # the CLI's seed rule, for the Python API too
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ConfigError(f"seed: expected an int, got {type(seed).__name__} {seed!r}")
        if not 0 <= int(seed) <= MAX_SEED:
            raise ConfigError(f"seed: must be in [0, {MAX_SEED}], got {int(seed)} (member {i})")
    check_population(configs, seeds)
    enable_compile_cache()
    plan = pretrain.phases(configs) if configs[0].pretrain_epochs > 0 else (Phase(configs),)
    results = run_phases(
        plan,
        seeds,
        progress=progress,
        data=data,
        keep_params=keep_params,
        checkpoint=checkpoint,
        on_evaluation=on_evaluation,
    )
    names = [phase.name for phase in plan]
    return [merge(c, member, names) for c, *member in zip(configs, *results, strict=True)]


def train(cfg: Config, seed: int = 0, **kwargs) -> RunResult:
    """Train one network (a population of one)."""
    return run_population([cfg], [seed], **kwargs)[0]
