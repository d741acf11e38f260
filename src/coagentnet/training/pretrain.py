"""Pretraining: train the backprop MLP, copy its weights into the coagent network, go on
with the coagent rule (the authors' regression study, Gupta et al. 2021).

Phase 1 trains the deterministic MLP of the same architecture (``layers`` x ``units``) by
backprop for ``pretrain_epochs`` epochs with the run's optimiser and learning rate. Its hidden
activation is what the coagent units pass on in expectation: the sigmoid for Bernoulli units
(E[a] = sigmoid(z)), the Gaussian units' activation (ReLU) for Gaussian units, so that for
Gaussian units the greedy coagent network *is* the pretrained MLP. Layer shapes agree, so the
weights are copied as they are.

Phase 2 trains ``epochs`` epochs of the rule from those weights, as the authors did: with
``finetune_optimizer`` (SGD) at ``lr * finetune_lr_scale`` (alpha / 128), and, for the ``ema``
baseline, the running average seeded with backprop's reward (minus its mean training loss over
the last pretraining epoch) instead of the coagent phase's first batch. Critics, learned
baselines and the optimiser state start fresh.

The run's record is one :class:`RunResult`: phase 1's metrics, then phase 2's with steps
continuing from phase 1's last update (phase 2's initial evaluation, at the same step as
phase 1's last one, is left out so that every (step, split, metric) stays unique). ``final``
holds phase 2's last values and phase 1's as ``pretrain/<split>/<metric>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from coagentnet.config import Config, ConfigError
from coagentnet.model.baselines import EmaState
from coagentnet.training.loop import train_population
from coagentnet.training.members import MemberState
from coagentnet.training.results import RunResult

#: Fields the backprop phase shares with the run (data, architecture, optimisation).
CARRIED = (
    "dataset",
    "data_dir",
    "split_seed",
    "normalize",
    "input_range",
    "layers",
    "units",
    "optimizer",
    "lr",
    "clip_norm",
    "batch_size",
    "eval_mode",
)


def backprop_config(cfg: Config) -> Config:
    """The config of phase 1: backprop on the same MLP for ``pretrain_epochs`` epochs."""
    activation = cfg.activation if cfg.unit_type == "gaussian" else "sigmoid"
    carried = {name: getattr(cfg, name) for name in CARRIED}
    return Config(rule="backprop", activation=activation, epochs=cfg.pretrain_epochs, **carried)


def finetune_config(cfg: Config) -> Config:
    """The config of phase 2: the rule with the switched optimiser and scaled learning rate."""
    return cfg.replace(
        pretrain_epochs=0, optimizer=cfg.finetune_optimizer, lr=cfg.lr * cfg.finetune_lr_scale
    )


def copy_weights(
    state: MemberState, trained: MemberState, ema_seed: np.ndarray | None
) -> MemberState:
    """Phase 2's initial population state with phase 1's weights (leading axis: members).

    ``ema_seed [P]``: the ema baseline's starting value (None leaves the baseline alone).
    Members that diverged in phase 1 stay diverged (and are not trained further).
    """
    params = dict(state.params)
    for part in ("hidden", "readout"):
        old = [np.shape(w) for w in jax.tree.leaves(params[part])]
        new = [np.shape(w) for w in jax.tree.leaves(trained.params[part])]
        if old != new:
            raise ConfigError(f"pretrain_epochs: backprop {part} shapes {new} differ from {old}")
        params[part] = trained.params[part]
    out = state._replace(params=params, diverged=trained.diverged)
    if ema_seed is not None:
        seed = jnp.asarray(np.nan_to_num(ema_seed), jnp.float32)
        baseline = EmaState(value=seed, ready=jnp.ones(seed.shape, bool))
        out = out._replace(rule_state={**state.rule_state, "baseline": baseline})
    return out


def run_phases(
    configs: Sequence[Config],
    seeds: Sequence[int],
    *,
    progress: Callable[[int], None] | None = None,
    data=None,
    keep_params: bool = False,
    checkpoint=None,
    on_evaluation: Callable | None = None,
) -> tuple[list[RunResult], list[RunResult]]:
    """Train both phases; return their results separately (phase 1, phase 2)."""
    ended: dict = {}
    first = train_population(
        [backprop_config(c) for c in configs],
        seeds,
        progress=progress,
        data=data,
        on_end=lambda state: ended.setdefault("state", state),
        checkpoint=None if checkpoint is None else checkpoint.phase("pretrain"),
        on_evaluation=on_evaluation,
    )
    ema_seed = None
    if configs[0].baseline == "ema":  # the authors seeded it with backprop's loss
        ema_seed = np.array([-r.final.get("training/loss", np.nan) for r in first])
    second = train_population(
        [finetune_config(c) for c in configs],
        seeds,
        progress=progress,
        data=data,
        on_init=lambda state: copy_weights(state, ended["state"], ema_seed),
        keep_params=keep_params,
        checkpoint=checkpoint,
        on_evaluation=None if on_evaluation is None else _after(first[0].updates, on_evaluation),
    )
    return first, second


def _after(offset: int, on_evaluation: Callable) -> Callable:
    """The fine-tuning phase's evaluations as :func:`merge` numbers them: steps continue from
    the pretraining phase's last, whose final evaluation is its step 0 (not repeated)."""

    def shifted(step: int, members: list) -> None:
        if step > 0:
            on_evaluation(step + offset, members)

    return shifted


def merge(cfg: Config, first: RunResult, second: RunResult) -> RunResult:
    """One run's record of both phases (see the module docstring)."""
    offset = first.updates
    later = [(step + offset, *rest) for step, *rest in second.metrics if step > 0]
    final = {**{f"pretrain/{k}": v for k, v in first.final.items()}, **second.final}
    return RunResult(
        config=cfg,
        seed=first.seed,
        diverged=first.diverged or second.diverged,
        metrics=first.metrics + later,
        final=final,
        updates=offset + second.updates,
        wall_time_s=first.wall_time_s + second.wall_time_s,
        compile_time_s=first.compile_time_s + second.compile_time_s,
        params=second.params,
    )


def pretrain_population(
    configs: Sequence[Config],
    seeds: Sequence[int],
    *,
    progress: Callable[[int], None] | None = None,
    data=None,
    keep_params: bool = False,
    checkpoint=None,
    on_evaluation: Callable | None = None,
) -> list[RunResult]:
    """Train a population with backprop pretraining; the same contract as ``train_population``
    (:func:`coagentnet.training.run.run_population` chooses this when ``pretrain_epochs > 0``)."""
    first, second = run_phases(
        configs,
        seeds,
        progress=progress,
        data=data,
        keep_params=keep_params,
        checkpoint=checkpoint,
        on_evaluation=on_evaluation,
    )
    return [merge(c, a, b) for c, a, b in zip(configs, first, second, strict=True)]
