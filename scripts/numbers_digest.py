"""A digest of every number a catalogue of tiny runs produces, to show a refactor changed none.

    PYTHONPATH=OLD/src python scripts/numbers_digest.py > old.txt
    PYTHONPATH=NEW/src python scripts/numbers_digest.py > new.txt
    diff old.txt new.txt        # empty: bitwise the same numbers

One line per case: its name and the SHA-256 of the ``repr`` of every metric row, every final
value and the final parameters of a 2-member population (members with different seeds and
learning rates), so any changed bit of any number changes the line. The cases cover every rule,
the unit types, the baselines, pretraining, staged training, exploration subsets, a diverging
member and the correlated stream. Compare on one machine: numbers differ across CPUs.
"""

from __future__ import annotations

import hashlib

import jax
import numpy as np

from coagentnet.config import Config
from coagentnet.training.run import run_population

TINY = dict(dataset="digits", layers=2, units=8, epochs=2, batch_size=64)
CASES = {
    "backprop": dict(rule="backprop", optimizer="adam"),
    "straight_through": dict(rule="straight_through"),
    "straight_through_gated": dict(rule="straight_through_gated"),
    "reinforce": dict(rule="reinforce"),
    "reinforce-ema": dict(rule="reinforce", baseline="ema"),
    "reinforce-categorical": dict(rule="reinforce", unit_type="categorical", num_actions=5),
    "reinforce-gaussian": dict(rule="reinforce", unit_type="gaussian"),
    "reinforce-explore": dict(rule="reinforce", explore_units=3),
    "reinforce-staged": dict(rule="reinforce", staged=True),
    "reinforce-pretrain": dict(rule="reinforce", pretrain_epochs=1, baseline="ema"),
    "actor_critic": dict(rule="actor_critic", critic_width=8),
    "off_policy": dict(rule="off_policy", critic_width=8),
    "mc_critic": dict(rule="mc_critic", critic_width=8),
    "greedy_return": dict(rule="greedy_return"),
    "greedy_counterfactual": dict(rule="greedy_counterfactual"),
    "value_based": dict(rule="value_based", critic_width=8),
    "diverging": dict(rule="reinforce", optimizer="sgd"),
    "stream": dict(
        dataset="correlated",
        layers=1,
        num_means=3,
        batches_per_mean=8,
        num_evals=3,
        epochs=1,
        difficulty=0.5,
        unit_type="gaussian",
        rule="reinforce",
        baseline="ema",
    ),
}
LRS = {"diverging": (2.0**-7, 1e38)}


def digest(name: str, overrides: dict) -> str:
    cfg = Config(**{**TINY, **overrides})
    lrs = LRS.get(name, (2.0**-9, 2.0**-6))
    results = run_population([cfg.replace(lr=lr) for lr in lrs], [0, 1], keep_params=True)
    h = hashlib.sha256()
    for r in results:
        h.update(repr((r.diverged, r.updates, r.metrics, sorted(r.final.items()))).encode())
        for leaf in jax.tree.leaves(r.params):
            h.update(np.asarray(leaf).tobytes())
    return h.hexdigest()


if __name__ == "__main__":
    for name, overrides in CASES.items():
        print(name, digest(name, overrides), flush=True)
