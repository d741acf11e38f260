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

The two are phases of one run (:mod:`coagentnet.training.phases`): its record continues phase
1's steps into phase 2's, and ``final`` holds phase 2's last values and phase 1's as
``pretrain/<split>/<metric>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from coagentnet.config import Config, ConfigError
from coagentnet.model.baselines import EmaState
from coagentnet.training.members import MemberState
from coagentnet.training.phases import Phase

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


def phases(configs: Sequence[Config]) -> tuple[Phase, Phase]:
    """The two phases of a pretrained population (:func:`coagentnet.training.phases.run_phases`
    trains them): backprop named ``pretrain``, then the rule from its weights."""

    def from_pretrained(fresh: MemberState, trained: MemberState, first: list) -> MemberState:
        ema_seed = None
        if configs[0].baseline == "ema":  # the authors seeded it with backprop's loss
            ema_seed = np.array([-r.final.get("training/loss", np.nan) for r in first])
        return copy_weights(fresh, trained, ema_seed)

    return (
        Phase([backprop_config(c) for c in configs], name="pretrain"),
        Phase([finetune_config(c) for c in configs], start=from_pretrained),
    )
