"""``coagentnet train --store PATH``: the runs of a ``train`` command recorded in a results
store, through the one sweep driver (:func:`coagentnet.sweeps.driver.run_missing`), so that
``status``, ``export`` and ``report`` read them like a sweep's and a repeated command resumes
(complete runs are skipped, an interrupted population continues from its checkpoint)."""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from pathlib import Path

from coagentnet.config import Config
from coagentnet.training.results import RunResult

log = logging.getLogger("coagentnet.train")
#: The meta key naming the train command that last wrote a store.
META_KEY = "train"


def train_into_store(
    configs: list[Config],
    seeds: list[int],
    path: Path,
    *,
    progress: bool = True,
    tensorboard: str | None = None,
    label_fields: tuple[str, ...] = (),
    params_dir: Path | None = None,
    announce: bool = True,
    runs: tuple | None = None,
) -> tuple[dict[Config, list[RunResult]], int]:
    """Run the (config, seed) runs missing from the store at ``path`` (created if need be);
    return every run's result read back from the store, by config and in seed order, and the
    failed count. ``tensorboard``: log the evaluations there, labelled by ``label_fields``;
    ``params_dir``: save each trained run's final parameters there as ``<run id>.npz``;
    ``announce``: log the plan (which names ``path``); ``runs``: the planned runs of
    ``configs`` x ``seeds`` (:func:`plan_runs`) where the caller has them already."""
    from coagentnet.commands.common import Progress, UsageError, open_store
    from coagentnet.sweeps import backends
    from coagentnet.sweeps.driver import run_missing
    from coagentnet.sweeps.sweepfile import Sweep
    from coagentnet.training.checkpoint import CheckpointPolicy, check_writable, checkpoint_dir

    runs = plan_runs(configs, seeds) if runs is None else runs
    sweep = Sweep(name=path.stem, runs=runs)
    try:  # an interrupted train --store resumes from its populations' checkpoints
        check_writable(checkpoint_dir(path))
    except OSError as err:
        raise UsageError(f"--store: {err}") from None
    options = backends.TrainOptions(
        CheckpointPolicy(str(checkpoint_dir(path))),
        keep_params=params_dir is not None,
        tensorboard=None if tensorboard is None else str(tensorboard),
        label_fields=tuple(label_fields),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_store(path) as store:
        store.set_meta(META_KEY, json.dumps({"command": _command()}))
        summary = run_missing(
            sweep,
            store,
            # The trainer a sweep would use ($COAGENTNET_TRAINER names a test double).
            lambda: backends.LocalBackend(
                os.environ.get(backends.TRAINER_ENV, backends.DEFAULT_TRAINER)
            ),
            Progress if progress else None,
            on_plan=None
            if not announce
            else lambda s: log.info(
                "train: %d runs, %d already in %s, %d to run in %d populations",
                s.runs,
                s.complete,
                path,
                s.todo,
                s.populations,
            ),
            options=options,
            params_dir=None if params_dir is None else str(params_dir),
        )
        records = store.runs([r.id for r in runs])
    for error in dict.fromkeys(summary.errors):
        log.error("error: %s", error)
    results: dict[Config, list[RunResult]] = {cfg: [] for cfg in configs}
    for rec in records:
        if rec["status"] not in ("done", "diverged"):
            continue
        cfg = Config(**rec["config"])
        results.setdefault(cfg, []).append(
            RunResult(
                config=cfg,
                seed=rec["seed"],
                diverged=rec["status"] == "diverged",
                final=rec["final"],
                updates=rec["updates"] or 0,
                wall_time_s=rec["wall_time_s"] or 0.0,
                compile_time_s=rec["compile_time_s"] or 0.0,
            )
        )
    return {c: sorted(r, key=lambda x: x.seed) for c, r in results.items() if r}, summary.failed


def plan_runs(configs: list[Config], seeds: list[int]) -> tuple:
    """The runs (:class:`coagentnet.sweeps.plan.Run`: id, config, seed) of every config with
    every seed, config-major."""
    from coagentnet.sweeps.plan import make_run

    return tuple(make_run(cfg, seed) for cfg in configs for seed in seeds)


def _command() -> str:
    return "coagentnet " + " ".join(shlex.quote(a) for a in sys.argv[1:])
