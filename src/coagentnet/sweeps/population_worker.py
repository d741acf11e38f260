"""What runs in a worker for one population: train it, check the results, say where it ran.

:func:`run_population` is the worker function every backend (:mod:`.backends`) runs; an
:class:`Outcome` is what comes back to the driver, and :class:`TrainOptions` what the driver
asks of every population besides training it.

The trainer is a callable with the signature of
:func:`coagentnet.training.run.run_population` ``(configs, seeds, *, progress=None) ->
list[RunResult]``, by default that function itself (module-level functions pickle by reference,
so process and Ray workers import it where they run). A ``"module:function"`` string is
accepted too, for the testing hook below; it is imported where the population runs.
"""

from __future__ import annotations

import importlib
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from coagentnet.sweeps.plan import Population
from coagentnet.training import run as training_run
from coagentnet.training.checkpoint import CheckpointPolicy
from coagentnet.training.results import RunResult

DEFAULT_TRAINER = training_run.run_population
#: Testing hook: a ``module:function`` trainer that ``coagentnet sweep`` uses instead of the
#: real one (the resume test injects a slow fake trainer through it). Not for users.
TRAINER_ENV = "COAGENTNET_TRAINER"

Trainer = Callable[..., list[RunResult]] | str


@dataclass
class Outcome:
    """What came back for one population: results (and where they ran) or an error text."""

    results: list[RunResult] | None = None
    env: dict = field(default_factory=dict)
    error: str | None = None


def resolve_trainer(trainer: Trainer) -> Callable[..., list[RunResult]]:
    if callable(trainer):
        return trainer
    module, _, name = trainer.partition(":")
    return getattr(importlib.import_module(module), name)


def environment() -> dict:
    """Versions (packages, git commit, device kind and count: :mod:`.provenance`), JAX
    backend and host of the process that trained a population."""
    import jax

    from coagentnet.sweeps.provenance import versions

    return {"versions": versions(), "device": jax.default_backend(), "host": socket.gethostname()}


@dataclass(frozen=True)
class TrainOptions:
    """What the driver asks of every population besides training it (picklable).

    ``checkpoints``: resume from and save checkpoints (:mod:`coagentnet.training.checkpoint`);
    ``keep_params``: return each run's final parameters (the driver saves them);
    ``tensorboard``: log every evaluation under ``<tensorboard>/<label>/seed<seed>``, the label
    naming the config fields ``label_fields`` (the ones that vary across the runs).
    """

    checkpoints: CheckpointPolicy | None = None
    keep_params: bool = False
    tensorboard: str | None = None
    label_fields: tuple[str, ...] = ()

    def evaluation_sink(self, pop: Population):
        """The population's TensorBoard writer (close it after training), or None."""
        if self.tensorboard is None:
            return None
        from coagentnet.config import run_label
        from coagentnet.training.tensorboard import TensorBoardWriter

        labels = [run_label(cfg, self.label_fields) for cfg in pop.configs]
        return TensorBoardWriter(self.tensorboard, labels, list(pop.seeds), list(pop.configs))

    def trainer_kwargs(self, pop: Population) -> dict:
        kwargs = {}
        if self.checkpoints is not None:
            kwargs["checkpoint"] = self.checkpoints.for_population(pop.ids, pop.configs, pop.seeds)
        if self.keep_params:
            kwargs["keep_params"] = True
        return kwargs


def run_population(
    trainer: Trainer, pop: Population, progress=None, options: TrainOptions | None = None
) -> tuple[list, dict]:
    """Train one population; check the trainer kept member order. Runs in the worker."""
    configs, seeds = pop.configs, pop.seeds
    if progress is not None:  # the trainer counts per-network updates; report all members'
        per_network, progress = progress, lambda n: per_network(n * len(configs))
    kwargs = options.trainer_kwargs(pop) if options is not None else {}
    sink = options.evaluation_sink(pop) if options is not None else None
    if sink is not None:
        kwargs["on_evaluation"] = sink
    try:
        results = resolve_trainer(trainer)(list(configs), list(seeds), progress=progress, **kwargs)
    finally:
        if sink is not None:
            sink.close()
    if len(results) != len(configs):
        raise RuntimeError(f"trainer returned {len(results)} results for {len(configs)} runs")
    for i, (res, cfg, seed) in enumerate(zip(results, configs, seeds, strict=True)):
        if res.seed != seed or res.config != cfg:
            raise RuntimeError(f"trainer result {i} is for another run (seed {res.seed})")
    return results, environment()


def error_text(err: BaseException) -> str:
    """Traceback text whose last line is the one-line summary ``Type: message``."""
    tb = "".join(traceback.format_exception(err)).rstrip()
    # Ray wraps a worker's exception in a RayTaskError whose .cause is the original.
    cause = getattr(err, "cause", None)
    cause = cause if isinstance(cause, BaseException) else err
    text = str(cause).strip()
    summary = f"{type(cause).__name__}: {text.splitlines()[0] if text else ''}"
    return f"{tb}\n{summary}"


__all__ = [
    "DEFAULT_TRAINER",
    "TRAINER_ENV",
    "Outcome",
    "Trainer",
    "TrainOptions",
    "environment",
    "error_text",
    "resolve_trainer",
    "run_population",
]
