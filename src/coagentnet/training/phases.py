"""A run as a sequence of phases: the pipeline's one way to chain trainings.

Each :class:`Phase` is a population trained by the loop (:func:`~coagentnet.training.loop.
train_phase`); a later phase may start from the state an earlier one ended in (pretraining:
:func:`coagentnet.training.pretrain.phases`). The run's record is one :class:`RunResult` per
member (:func:`merge`): the phases' metrics in order, with steps continuing from one phase into
the next (a later phase's initial evaluation, at the same step as the previous phase's last one,
is left out so that every (step, split, metric) stays unique); ``final`` holds the last phase's
values and every earlier phase's as ``<phase name>/<split>/<metric>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from coagentnet.config import Config
from coagentnet.training.loop import train_phase
from coagentnet.training.results import RunResult


class Phase(NamedTuple):
    """One phase of a run.

    ``configs``: one per member. ``name``: names the phase's checkpoint and prefixes its final
    values in the merged record; the last phase's is ``""`` (its checkpoint is the run's own).
    ``start(fresh, previous_state, previous_results) -> state``: the phase's initial population
    state (leading member axis) from the freshly initialised one and how the phase before it
    ended; ``None`` starts fresh.
    """

    configs: Sequence[Config]
    name: str = ""
    start: Callable | None = None


def run_phases(
    phases: Sequence[Phase],
    seeds: Sequence[int],
    *,
    progress: Callable[[int], None] | None = None,
    data=None,
    keep_params: bool = False,
    checkpoint=None,
    on_evaluation: Callable | None = None,
) -> list[list[RunResult]]:
    """Train the phases in order; return each phase's results (one per member).

    Evaluations reach ``on_evaluation`` with steps continuing across phases, as :func:`merge`
    numbers them; ``keep_params`` applies to the last phase (the run's final network).
    """
    results: list[list[RunResult]] = []
    state, offset = None, 0
    for i, phase in enumerate(phases):
        last = i == len(phases) - 1
        start = None
        if phase.start is not None:
            start = _handover(phase.start, state, results[-1] if results else None)
        # A named phase keeps its own checkpoint; the last one's is the run's.
        own = checkpoint.phase(phase.name) if checkpoint is not None and phase.name else checkpoint
        out, state = train_phase(
            phase.configs,
            seeds,
            start=start,
            progress=progress,
            data=data,
            keep_params=keep_params and last,
            checkpoint=own,
            on_evaluation=None if on_evaluation is None else _after(offset, on_evaluation),
        )
        results.append(out)
        offset += out[0].updates
    return results


def _handover(start: Callable, state, previous: list[RunResult] | None) -> Callable:
    return lambda fresh: start(fresh, state, previous)


def _after(offset: int, on_evaluation: Callable) -> Callable:
    """A phase's evaluations as :func:`merge` numbers them: steps continue from the previous
    phases' updates, and a later phase's step 0 (the previous one's last) is not repeated."""
    if offset == 0:
        return on_evaluation

    def shifted(step: int, members: list) -> None:
        if step > 0:
            on_evaluation(step + offset, members)

    return shifted


def merge(cfg: Config, results: Sequence[RunResult], names: Sequence[str]) -> RunResult:
    """One member's record of all its phases (``results`` and phase ``names`` in order)."""
    first, *later = results
    metrics, final = list(first.metrics), {}
    offset = first.updates
    for earlier, name in zip(results[:-1], names[:-1], strict=True):
        final |= {f"{name}/{k}": v for k, v in earlier.final.items()}
    for result in later:
        metrics += [(step + offset, *rest) for step, *rest in result.metrics if step > 0]
        offset += result.updates
    return RunResult(
        config=cfg,
        seed=first.seed,
        diverged=any(r.diverged for r in results),
        metrics=metrics,
        final=final | results[-1].final,
        updates=offset,
        wall_time_s=sum(r.wall_time_s for r in results),
        compile_time_s=sum(r.compile_time_s for r in results),
        params=results[-1].params,
    )
