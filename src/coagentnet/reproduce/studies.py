"""The paper's studies (Gupta et al. 2021): the registry of what each one runs and shows.

``STUDIES`` is an explicit tuple: each :class:`Study` names its sweep files
(``experiments/<study>/<file>.yaml``, each with a ``quick`` and a ``paper`` preset), how each
experiment is scored (:class:`~coagentnet.analysis.selection.Protocol`) and which figures it makes
(:class:`~coagentnet.analysis.figures.Fig`). :mod:`coagentnet.reproduce.runner` runs them and
:mod:`coagentnet.reproduce.report` reports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from coagentnet.analysis.figure_spec import Fig
from coagentnet.analysis.selection import Protocol
from coagentnet.reproduce.names import PRESETS  # noqa: F401 (re-exported)
from coagentnet.reproduce.study_files import (  # noqa: F401 (re-exported)
    check_preset,
    experiments_dir,
)

REQUIRED_PRESETS = ("quick", "paper")


@dataclass(frozen=True)
class Experiment:
    """One sweep file of a study and how it is analysed."""

    file: str
    title: str
    protocol: Protocol
    figures: tuple[Fig, ...]
    labels: tuple[str, ...] | None = None
    """Method columns shown in labels (None: every method column)."""


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    claim: str
    experiments: tuple[Experiment, ...]


_ACC = Protocol(metric="accuracy", maximize=True)
_MSE = Protocol(metric="loss", maximize=False)

STUDIES: tuple[Study, ...] = (
    Study(
        "mnist_shallow",
        "MNIST, 1 and 2 hidden layers: backprop, straight-through, REINFORCE (+ema)",
        "REINFORCE learns but stays below backprop, more so with depth.",
        (
            Experiment(
                "rules",
                "Rules on 1 and 2 hidden layers of 64 units",
                _ACC,
                (
                    Fig(
                        "curves",
                        "curves",
                        "Test accuracy at each rule's selected lr (mean ± SE)",
                        facet="layers",
                    ),
                    Fig(
                        "sensitivity",
                        "lr",
                        "Validation AUC against the learning rate",
                        x="lr",
                        log2=True,
                        facet="layers",
                    ),
                ),
            ),
        ),
    ),
    Study(
        "mnist_deep",
        "MNIST, 3 and 4 hidden layers: REINFORCE, on-policy actor-critic, off-policy "
        "(backprop as the reference)",
        "On-policy learners settle on suboptimal solutions (each layer learns under its "
        "neighbours' noise); the off-policy method does better.",
        (
            Experiment(
                "critics",
                "Critic rules on 3 and 4 hidden layers",
                _ACC,
                (
                    Fig("curves", "curves", "Test accuracy at the selected lr", facet="layers"),
                    Fig(
                        "layers",
                        "entropy",
                        "Per-layer mean unit entropy (training split)",
                        split="train",
                        metric="entropy",
                    ),
                    Fig(
                        "layers",
                        "on_fraction",
                        "Per-layer on-fraction (training split, greedy)",
                        split="train",
                        metric="on_fraction",
                    ),
                    # How far each layer's critic is from its target and from the exact
                    # greedy-continuation return (training metrics, batch averages), so a
                    # critic's error can be told apart from the off-policy rule's idea.
                    *(
                        Fig("layers", metric, title, split="training", metric=metric)
                        for metric, title in (
                            ("critic_ev_target", "Per-layer critic explained variance (target)"),
                            ("critic_ev_greedy", "Per-layer critic explained variance (exact G)"),
                            ("signal_corr_greedy", "Per-layer actor signal vs exact G"),
                        )
                    ),
                    Fig(
                        "sensitivity",
                        "lr",
                        "Validation AUC against the learning rate",
                        x="lr",
                        log2=True,
                        facet="layers",
                    ),
                ),
            ),
            Experiment(
                "diagnostics",
                "Per-layer update diagnostics over training, 3 hidden layers",
                _ACC,
                (
                    Fig("curves", "curves", "Test accuracy (lr 2^-6)"),
                    *(
                        Fig("layers", metric, title, split="train", metric=metric, log_y=log)
                        for metric, title, log in (
                            ("grad_snr", "Per-layer SNR of the update, R = 32", True),
                            ("grad_cos", "Per-layer cosine with the expected-loss gradient", False),
                            ("grad_var", "Per-layer total variance of the update", True),
                        )
                    ),
                ),
            ),
        ),
    ),
    Study(
        "exploration",
        "Exploration subsets: k stochastic units per layer",
        "(No claim is stated in our sources beyond the study itself: how accuracy depends on "
        "the number k of units that explore; k = 64 is plain REINFORCE.)",
        (
            Experiment(
                "subsets",
                "k exploring units of 64 per layer, 1 and 2 layers",
                _ACC,
                (
                    Fig(
                        "sensitivity",
                        "k",
                        "Final test accuracy against k",
                        x="explore_units",
                        score="test_final",
                        log2=True,
                    ),
                    Fig("curves", "curves", "Test accuracy", facet="layers"),
                ),
            ),
        ),
    ),
    Study(
        "units_k",
        "Policy parameterisation: units per layer x actions per unit K (3 layers)",
        "(The paper plots accuracy over the last 20% of training against units, a line per "
        "K; no direction is stated in our sources.)",
        (
            Experiment(
                "categorical",
                "Categorical units, values in [-1, 1], 3 hidden layers",
                Protocol(metric="accuracy", maximize=True, final_last=0.2),
                (
                    Fig(
                        "sensitivity",
                        "units",
                        "Test accuracy over the last 20% of training against units",
                        x="units",
                        score="test_final",
                        log2=True,
                    ),
                    Fig(
                        "sensitivity",
                        "K",
                        "Test accuracy over the last 20% of training against K",
                        x="num_actions",
                        score="test_final",
                        log2=True,
                    ),
                    Fig("curves", "curves", "Test accuracy", facet="num_actions"),
                ),
            ),
        ),
    ),
    Study(
        "correlated",
        "Correlated online regression: backprop vs coagent networks across d",
        "As d grows, backprop's best step size collapses and its error grows, while coagent "
        "networks stay robust.",
        (
            Experiment(
                "stream",
                "One pass over the correlated stream at each difficulty d",
                _MSE,
                (
                    Fig(
                        "sensitivity",
                        "mse_vs_d",
                        "Test MSE (area over the stream) against d at each d's selected setting",
                        x="difficulty",
                        score="test_auc",
                        log_y=True,
                    ),
                    Fig(
                        "selected",
                        "best_lr",
                        "Selected learning rate against d",
                        x="difficulty",
                        param="lr",
                        log2=True,
                    ),
                    Fig(
                        "sensitivity",
                        "backprop_lr",
                        "Backprop: validation MSE (area) against lr, a line per d",
                        x="lr",
                        log2=True,
                        log_y=True,
                        only={"rule": "backprop"},
                    ),
                    Fig(
                        "sensitivity",
                        "gaussian_unit_std",
                        "Gaussian REINFORCE: validation MSE (area) against unit_std, a line per d",
                        x="unit_std",
                        log2=True,
                        log_y=True,
                        only={"rule": "reinforce"},
                    ),
                    Fig(
                        "curves",
                        "curves",
                        "Test MSE over the stream (updates), a line per d",
                        facet="rule",
                        line="difficulty",
                        log_y=True,
                    ),
                ),
                labels=("rule", "difficulty"),
            ),
        ),
    ),
    Study(
        "tabular",
        "Tabular regression (Boston housing): Gaussian coagents, partitions, pretraining",
        "(Our sources list the comparison, not its outcome: Gaussian coagents, partitions and "
        "pretraining against backprop.)",
        (
            Experiment(
                "boston",
                "Full-batch regression on Boston housing (404/51/51, raw features)",
                _MSE,
                (
                    Fig(
                        "curves",
                        "curves",
                        "Test MSE at each method's selected setting (mean ± SE)",
                        log_y=True,
                    ),
                    Fig(
                        "sensitivity",
                        "lr",
                        "Validation MSE (area) against the learning rate",
                        x="lr",
                        log2=True,
                        log_y=True,
                    ),
                ),
                labels=(
                    "rule",
                    "layers",
                    "partition",
                    "stochastic_readout",
                    "pretrain_epochs",
                ),
            ),
        ),
    ),
)


def study(name: str) -> Study:
    for s in STUDIES:
        if s.name == name:
            return s
    raise KeyError(name)
