"""The one sweep driver: add a sweep's runs to a store, find what is missing, plan it into
populations, run them on a backend and close the progress bar.

``coagentnet sweep`` and ``coagentnet reproduce`` both run sweeps through :func:`run_missing`,
so resuming (complete runs skipped, runs another live sweep holds left alone, runs a dead sweep
left ``running`` taken again by the store's claim) behaves the same in both.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from coagentnet.sweeps import plan
from coagentnet.sweeps.execute import Summary, execute
from coagentnet.sweeps.population_worker import TrainOptions
from coagentnet.sweeps.store import COMPLETE, Store
from coagentnet.sweeps.sweepfile import Sweep


def run_missing(
    sweep: Sweep,
    store: Store,
    backend: Callable,
    progress: Callable | None = None,
    *,
    max_population: int | None = None,
    memory_bytes: int | None = None,
    on_plan: Callable[[Summary], None] | None = None,
    options: TrainOptions | None = None,
    params_dir: str | None = None,
) -> Summary:
    """Run the runs of ``sweep`` that ``store`` does not have yet; return what happened.

    ``backend()`` opens a backend (a context manager, :mod:`coagentnet.sweeps.backends`); it
    is called only if something is missing, so a complete store starts no process pool.
    ``progress(total)`` (optional) makes a progress object with ``updates(n)``, ``runs(n)``
    and ``close()``. ``max_population`` defaults to the sweep file's. ``on_plan(summary)``
    is told the counts (``runs``, ``complete``, ``busy``, ``todo``, ``populations``) before
    anything runs. ``options`` and ``params_dir``: see :func:`~coagentnet.sweeps.execute.execute`
    (checkpoints to resume a killed population mid-way; final parameters kept).
    """
    start = time.perf_counter()
    if options is not None and options.checkpoints is not None and not options.checkpoints.secret:
        # Checkpoints are signed with the store's secret: only this store's are trusted.
        policy = dataclasses.replace(options.checkpoints, secret=store.checkpoint_secret())
        options = dataclasses.replace(options, checkpoints=policy)
    ids = [r.id for r in sweep.runs]
    store.add_runs(sweep.runs)
    status = store.statuses(ids)
    todo = [r for r in sweep.runs if status[r.id] not in (*COMPLETE, "running")]
    busy = sum(s == "running" for s in status.values())
    summary = Summary(runs=len(ids), busy=busy, todo=len(todo))
    summary.complete = len(ids) - len(todo) - busy
    if not todo:
        if on_plan is not None:
            on_plan(summary)
        return summary
    with backend() as opened:
        pops = plan.plan(
            todo,
            max_population=max_population or sweep.max_population,
            memory_bytes=memory_bytes,
            workers=opened.slots,
        )
        summary.populations = len(pops)
        if on_plan is not None:
            on_plan(summary)
        bar = progress(len(todo)) if progress is not None else None
        try:
            done = execute(
                store, pops, opened, progress=bar, options=options, params_dir=params_dir
            )
        finally:
            if bar is not None:
                bar.close()
    summary.add(done)
    summary.seconds = time.perf_counter() - start
    store.check_present()  # a store deleted mid-sweep lost what was written: not a success
    return summary
