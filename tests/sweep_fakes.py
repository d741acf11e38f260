"""A fake trainer for the sweep machinery's tests: a deterministic function of (config, seed).

It has ``coagentnet.training.run.run_population``'s signature and contract (member i's numbers
depend only on configs[i] and seeds[i], never on the grouping). Knobs, for tests only:

- ``SWEEP_FAKE_SLEEP`` (seconds per epoch, default 0): makes a sweep slow enough to kill;
- ``units == 13``: the population raises (a failed run);
- ``lr > 0.5``: the run diverges.

The CLI reaches it through the ``COAGENTNET_TRAINER=sweep_fakes:train_population`` testing
hook (with ``tests/`` on ``PYTHONPATH``).
"""

from __future__ import annotations

import hashlib
import os
import time

import numpy as np

from coagentnet.sweeps.plan import canonical_json
from coagentnet.training.results import RunResult

#: The ``COAGENTNET_TRAINER`` value that makes the CLI train with this module.
TRAINER = "sweep_fakes:train_population"

#: A three-run sweep file (lr 0.01, 0.02, 0.03) small enough for any store test.
THREE_RUNS = "name: s\nbase: {units: 4, layers: 1, epochs: 1}\ngrid:\n  lr: [0.01, 0.02, 0.03]\n"

UPDATES_PER_EPOCH = 10


def member_metrics(config, seed: int) -> tuple[list, dict, bool]:
    """(rows, final, diverged) of one member, from (config, seed) alone."""
    digest = hashlib.sha256(f"{canonical_json(config)}|{seed}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    rows, final = [], {}
    diverged = config.lr > 0.5
    for epoch in range(config.epochs + 1):
        step = epoch * UPDATES_PER_EPOCH
        acc = float(rng.uniform(0, 1))
        rows.append((step, "validation", "accuracy", None, acc))
        final["validation/accuracy"] = acc
        for layer in range(config.layers):
            ent = float(rng.uniform(0, 1))
            rows.append((step, "training", "entropy", layer, ent))
            final[f"training/entropy/{layer}"] = ent
        if diverged and epoch == 1:
            break
    return rows, final, diverged


def train_population(
    configs, seeds, *, progress=None, checkpoint=None, keep_params=False, on_evaluation=None
) -> list[RunResult]:
    del checkpoint, keep_params, on_evaluation  # the fake keeps no state and has no curves
    if any(c.units == 13 for c in configs):
        raise ValueError("units=13 is unlucky")
    sleep = float(os.environ.get("SWEEP_FAKE_SLEEP", "0"))
    for _ in range(configs[0].epochs):
        time.sleep(sleep)
        if progress is not None:
            progress(UPDATES_PER_EPOCH)
    out = []
    for config, seed in zip(configs, seeds, strict=True):
        rows, final, diverged = member_metrics(config, seed)
        out.append(
            RunResult(config, int(seed), diverged, rows, final, config.epochs * UPDATES_PER_EPOCH)
        )
    return out
