"""Where populations run: in this process, in a process pool, or on a Ray cluster.

Every backend runs the same worker function, :func:`run_population`, and hands its results
back to :func:`coagentnet.sweeps.execute.execute`, which alone writes the store.

A backend has ``slots`` (populations it runs at once), ``submit(population) -> handle`` and
``wait(handles, on_updates) -> [(handle, Outcome)]`` (blocks until at least one is done).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import queue
import signal
import threading
import time

from coagentnet.sweeps.plan import Population
from coagentnet.sweeps.population_worker import (
    DEFAULT_TRAINER,
    TRAINER_ENV,
    Outcome,
    Trainer,
    TrainOptions,
    environment,
    error_text,
    resolve_trainer,
    run_population,
)


class _Backend:
    """Context manager: ``with LocalBackend(...) as backend`` closes it on the way out."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalBackend(_Backend):
    """Runs populations one at a time in this process (progress after every epoch)."""

    slots = 1

    def __init__(self, trainer: Trainer = DEFAULT_TRAINER):
        self.trainer = trainer
        self.options: TrainOptions | None = None
        self._todo: dict[int, Population] = {}

    def submit(self, population: Population) -> int:
        handle = id(population)
        self._todo[handle] = population
        return handle

    def wait(self, handles, on_updates):
        handle = handles[0]
        pop = self._todo.pop(handle)
        try:
            results, env = run_population(self.trainer, pop, on_updates, self.options)
        except Exception as err:  # one population's failure must not stop the sweep
            return [(handle, Outcome(error=error_text(err)))]
        return [(handle, Outcome(results, env))]

    def close(self) -> None:
        self._todo.clear()


_worker_queue = None


def _init_worker(updates_queue, driver: int) -> None:
    global _worker_queue
    _worker_queue = updates_queue
    # Several processes on one GPU must not each grab most of its memory.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    # Ctrl-C reaches the whole process group: the driver alone handles it (and ends the pool),
    # so a worker does not print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(driver)  # (not os.getppid(): the driver may be gone already)


def _exit_with_parent(parent: int, every_s: float = 0.5) -> None:
    """Exit once the driver is gone: a SIGKILLed driver cannot shut its pool down, and each
    worker holds a JAX runtime (hundreds of MB) and would finish its population for no one."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="coagentnet-parent-watch", daemon=True).start()


def _pool_task(trainer: Trainer, pop: Population, options: TrainOptions | None):
    def progress(n: int) -> None:
        _worker_queue.put(int(n))

    return run_population(trainer, pop, progress, options)


class ProcessBackend(_Backend):
    """Runs populations in ``workers`` spawned processes (each imports JAX afresh).

    Updates done are streamed back through a queue, so the progress bar moves per epoch.
    A worker that dies (killed, out of memory) fails its population; the pool is rebuilt.
    """

    def __init__(self, trainer: Trainer = DEFAULT_TRAINER, workers: int = 2):
        self.trainer = trainer
        self.options: TrainOptions | None = None
        self.slots = max(1, workers)
        self._ctx = multiprocessing.get_context("spawn")
        self._queue = self._ctx.Queue()
        self._pool = self._new_pool()
        self._outstanding: set[cf.Future] = set()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            self.slots,
            mp_context=self._ctx,
            initializer=_init_worker,
            initargs=(self._queue, os.getpid()),
        )

    def submit(self, population: Population) -> cf.Future:
        args = (_pool_task, self.trainer, population, self.options)
        try:
            fut = self._pool.submit(*args)
        except cf.process.BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            fut = self._pool.submit(*args)
        self._outstanding.add(fut)
        return fut

    def _drain(self, on_updates) -> None:
        while True:
            try:
                on_updates(self._queue.get_nowait())
            except queue.Empty:
                return

    def wait(self, handles, on_updates):
        while True:
            done, _ = cf.wait(handles, timeout=0.25, return_when=cf.FIRST_COMPLETED)
            self._drain(on_updates)
            if done:
                break
        out = []
        for fut in done:
            self._outstanding.discard(fut)
            try:
                results, env = fut.result()
                out.append((fut, Outcome(results, env)))
            except Exception as err:
                out.append((fut, Outcome(error=error_text(err))))
        return out

    def close(self) -> None:
        # Interrupted with work in flight: do not wait for it (the workers got the signal too).
        self._pool.shutdown(wait=not self._outstanding, cancel_futures=True)
        self._queue.close()


def _ray_task(trainer: Trainer, pop: Population, options: TrainOptions | None):
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    return run_population(trainer, pop, None, options)


class RayBackend(_Backend):
    """Runs populations as Ray tasks; results travel back to the driver, which writes.

    Starts a local Ray (``ray.init()``) unless Ray is already initialised or ``address``
    names a cluster, and shuts down only what it started. Progress is counted when a
    population finishes (workers do not stream updates).

    Args:
      address: a Ray cluster address (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``).
      workers: populations in flight; default: cluster CPUs (or GPUs) / resources per task.
      num_cpus, num_gpus: resources each task asks for (``num_gpus=1`` puts it on a GPU).
    """

    def __init__(
        self,
        trainer: Trainer = DEFAULT_TRAINER,
        *,
        address: str | None = None,
        workers: int | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
    ):
        import ray

        self.ray = ray
        self.trainer = trainer
        self.options: TrainOptions | None = None
        self._started = False
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
            self._started = True
        self._task = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus)(_ray_task)
        if workers is None:
            res = ray.cluster_resources()
            per = res.get("GPU", 0) / num_gpus if num_gpus else res.get("CPU", 1) / num_cpus
            workers = int(per)
        self.slots = max(1, workers)

    def submit(self, population: Population):
        return self._task.remote(self.trainer, population, self.options)

    def wait(self, handles, on_updates):
        done, _ = self.ray.wait(list(handles), num_returns=1)
        out = []
        for ref in done:
            try:
                results, env = self.ray.get(ref)
                on_updates(sum(r.updates for r in results))
                out.append((ref, Outcome(results, env)))
            except Exception as err:  # RayTaskError wraps the worker's exception
                out.append((ref, Outcome(error=error_text(err))))
        return out

    def close(self) -> None:
        if self._started:
            self.ray.shutdown()


__all__ = [
    "DEFAULT_TRAINER",
    "TRAINER_ENV",
    "Outcome",
    "LocalBackend",
    "ProcessBackend",
    "RayBackend",
    "TrainOptions",
    "environment",
    "resolve_trainer",
    "run_population",
]
