"""Running planned populations on a backend and writing what comes back: the only writer of
a sweep's results (:func:`execute`), and the sweep's run counters (:class:`Summary`).

It claims a population's runs just before the population starts, writes each finished run in
its own transaction, saves kept parameters and deletes the population's checkpoint once its
runs are stored, and gives back unfinished claims if it is interrupted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from coagentnet.sweeps.plan import Population
from coagentnet.sweeps.population_worker import TrainOptions
from coagentnet.sweeps.store import Store
from coagentnet.training.checkpoint import save_params


@dataclass
class Summary:
    """The run counters of a sweep: what :func:`execute` did (``done``, ``diverged``,
    ``failed``, ``skipped``, ``updates``, ``errors``) and, filled in by
    :func:`coagentnet.sweeps.driver.run_missing`, what it found (``runs`` in the sweep,
    ``complete`` already, ``busy`` elsewhere, ``todo``, ``populations``) and its ``seconds``."""

    done: int = 0
    diverged: int = 0
    failed: int = 0
    skipped: int = 0
    """Runs another live sweep held, or that were already complete when claimed."""
    updates: int = 0
    errors: list[str] = field(default_factory=list)
    runs: int = 0
    complete: int = 0
    busy: int = 0
    todo: int = 0
    populations: int = 0
    seconds: float = 0.0

    @property
    def trained(self) -> int:
        """Runs trained to the end now (diverged ones included)."""
        return self.done + self.diverged

    def add(self, other: Summary) -> None:
        """Add ``other``'s counters to these (errors appended, each distinct one once)."""
        counts = ("done", "diverged", "failed", "skipped", "updates")
        for name in (*counts, "runs", "complete", "busy", "todo", "populations"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.seconds += other.seconds
        self.errors.extend(e for e in dict.fromkeys(other.errors) if e not in self.errors)


def execute(
    store: Store,
    populations: list[Population],
    backend,
    *,
    progress=None,
    options: TrainOptions | None = None,
    params_dir: str | None = None,
) -> Summary:
    """Run populations on a backend, writing each finished run to the store.

    Keeps at most ``backend.slots`` populations in flight, so ``running`` rows in the store
    are the ones actually training. The caller owns (and closes) the backend. ``progress``
    (optional) has ``updates(n)`` and ``runs(n)`` methods. A failed population marks its runs
    failed and the sweep goes on. ``options`` go to every population (checkpoints, kept
    parameters); a population's checkpoint is deleted once its runs are in the store, and with
    ``params_dir`` each run's final parameters are saved there (``<run id>.npz``).
    """
    backend.options = options
    summary = Summary()
    store.add_runs(run for pop in populations for run in pop.runs)  # claims need the rows
    todo = deque(populations)
    inflight: dict[object, Population] = {}

    def on_updates(n: int) -> None:
        summary.updates += n
        if progress is not None:
            progress.updates(n)

    try:
        while todo or inflight:
            while todo and len(inflight) < backend.slots:
                pop = todo.popleft()
                got = set(store.claim(pop.ids))
                summary.skipped += len(pop) - len(got)
                if len(got) < len(pop):  # another sweep holds some: run the rest
                    if progress is not None:
                        progress.runs(len(pop) - len(got))
                    pop = Population(tuple(r for r in pop.runs if r.id in got))
                if len(pop):
                    inflight[backend.submit(pop)] = pop
            if not inflight:
                continue
            for handle, outcome in backend.wait(list(inflight), on_updates):
                pop = inflight.pop(handle)
                _record(store, pop, outcome, summary, progress)
                if outcome.error is None:
                    _after_stored(pop, outcome.results, options, params_dir)
    finally:
        for pop in inflight.values():
            store.release(pop.ids)
    return summary


def _after_stored(pop: Population, results, options: TrainOptions | None, params_dir) -> None:
    """A population's runs are safe in the store: save their parameters, drop its checkpoint."""
    if params_dir is not None:
        for run, result in zip(pop.runs, results, strict=True):
            if result.params is not None:
                save_params(Path(params_dir) / f"{run.id}.npz", result)
    if options is not None and options.checkpoints is not None:
        options.checkpoints.for_population(pop.ids, pop.configs, pop.seeds).clear()


def _record(store, pop, outcome, summary, progress) -> None:
    if outcome.error is not None:
        store.fail(pop.ids, outcome.error, env=outcome.env)
        summary.failed += len(pop)
        summary.errors.append(outcome.error.rstrip().splitlines()[-1])
    else:
        for run, result in zip(pop.runs, outcome.results, strict=True):
            store.finish(run, result, env=outcome.env, population_size=len(pop))
            if result.diverged:
                summary.diverged += 1
            else:
                summary.done += 1
    if progress is not None:
        progress.runs(len(pop))
