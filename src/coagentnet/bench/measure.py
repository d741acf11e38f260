"""Speed harness: steady-state throughput, compile time and peak memory.

For each standard case (an architecture) and population size P, the harness times the engine's
own compiled training program, :meth:`coagentnet.training.trainer.Programs.run_chunk` (a jitted,
vmapped ``lax.scan`` over one chunk of updates), for the case's coagent rule and for backprop on the
same architecture, in the same run, and reports:

- ``us_per_update``: median wall time of a chunk divided by ``steps * P``: the cost of one
  network's update (microseconds), and ``updates_per_s``, its inverse (network-updates per
  second over the whole population);
- ``compile_s``: the first chunk's time minus the steady-state median (tracing + XLA compile);
- ``eval_us_per_example``: a greedy evaluation pass over the splits (up to
  :data:`EVAL_BUDGET` network-examples), per network and example;
- ``peak_rss_mb`` (process RSS high-water mark, each measurement in a fresh process) and, on a
  GPU, ``peak_device_mb``.

Inputs are synthetic arrays of the real shapes (784 inputs, 10 classes for the MNIST cases;
the correlated stream is generated inside the scan as in training): the harness measures speed,
never accuracy. Timings are wall-clock medians over ``repeats`` chunks after a warm-up chunk;
on a shared machine they are noisy, so the JSON also records the load average and the process
CPU time per update.

Run it as ``coagentnet bench`` (see :mod:`coagentnet.commands.bench`). This module measures one
(case, P) in this process; :mod:`coagentnet.bench.worker` runs it in a fresh one,
:mod:`coagentnet.bench.harness` runs a whole plan, :mod:`coagentnet.bench.projections` and
:mod:`coagentnet.bench.table` turn the rows into projections and text.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from coagentnet.bench.cases import CASES, Case, bench_config
from coagentnet.bench.memory_probe import available_mb, rss_mb

if TYPE_CHECKING:
    from coagentnet.training.evaluation import EvalChunks

#: Most network-examples (P x examples) in the timed evaluation pass: the first evaluation
#: chunks of the case's splits, enough to make the call's fixed cost negligible; the per-example
#: cost does not change with more chunks (the scan just runs longer).
EVAL_BUDGET = 20_000_000


#: Estimated peak memory / population state: the state in and out of a chunk, gradients,
#: optimiser temporaries and activations (XLA's own accounting of these programs: 2.5-3x).
STATE_FACTOR = 4.0


def measure(
    case_name: str,
    population: int,
    steps: int,
    repeats: int,
    device: str = "cpu",
    kinds: Sequence[str] = ("coagent", "backprop"),
    eval_chunk: int | None = None,
    member_tiles: Sequence[int | None] = (None,),
) -> list[dict]:
    """Time a population of P networks of one case, coagent rule and backprop (in-process).

    Every program (each rule at each of ``member_tiles``: members per vmapped step, None for
    the engine's) is compiled first; then their timed chunks alternate (coagent, backprop,
    coagent, ...), so that all see the same load: on a shared machine this keeps their ratios
    meaningful even when the absolute times drift. Returns one row per rule (see the module
    docstring). A rule whose population would not fit in the memory left is skipped
    (``skipped`` says why) rather than risking the machine.
    """
    import jax

    case = CASES[case_name]
    devices = jax.devices(device)
    dev = devices[0]
    base_rss = rss_mb()
    runs, rows = {}, []
    with jax.default_device(dev):
        for kind in kinds:
            for tile in member_tiles:
                row = _row_header(case, kind, population, steps, repeats, dev)
                row["base_rss_mb"] = base_rss
                rows.append(row)
                run = prepare(
                    case, kind, population, steps, repeats, devices, row, eval_chunk, tile
                )
                if run is not None:
                    runs[len(rows) - 1] = run
        for chunk in range(1, repeats + 1):
            for run in runs.values():
                run.timed_chunk(chunk)
        for run in runs.values():
            run.time_evaluation()
            run.time_checkpoint()
    peak = rss_mb()
    stats = dev.memory_stats() if dev.platform != "cpu" else None
    for index, row in enumerate(rows):
        run = runs.get(index)
        if run is None:
            continue
        row.update(run.results(), peak_rss_mb=peak)
        if stats and "peak_bytes_in_use" in stats:
            row["peak_device_mb"] = stats["peak_bytes_in_use"] / 2**20
    return rows


class _Run:
    """One rule's compiled population, its state and its timings (see :func:`measure`)."""

    def __init__(self, trainer, layout, hyper, keys, steps, population):
        import jax

        self.trainer, self.layout, self.hyper, self.keys = trainer, layout, hyper, keys
        self.programs = trainer.programs(layout)
        self.steps, self.population = steps, population
        self.arrays = layout.replicate(trainer.train_arrays)
        self.eval_arrays = layout.replicate(eval_subset(trainer.eval_arrays, population))
        self.state = jax.block_until_ready(layout.place(self.programs.init(keys, hyper)))
        self.walls: list[float] = []
        self.cpus: list[float] = []
        t0 = time.perf_counter()
        self.state, self.metrics = jax.block_until_ready(self._chunk(0))
        self.first = time.perf_counter() - t0

    def _chunk(self, chunk: int):
        return self.programs.run_chunk(self.state, self.hyper, self.keys, chunk, self.arrays)

    def timed_chunk(self, chunk: int) -> None:
        import jax

        w0, c0 = time.perf_counter(), time.process_time()
        self.state, self.metrics = jax.block_until_ready(self._chunk(chunk))
        self.walls.append(time.perf_counter() - w0)
        self.cpus.append(time.process_time() - c0)

    def time_evaluation(self) -> None:
        import jax

        def once() -> float:
            t0 = time.perf_counter()
            jax.block_until_ready(
                self.programs.evaluate(self.state, self.hyper, self.keys, 1, self.eval_arrays)
            )
            return time.perf_counter() - t0

        self.eval_first = once()  # compiles
        self.eval_wall = once()

    def time_checkpoint(self) -> None:
        """One checkpoint of the population as training writes it (device -> host, atomic
        .npz with fsync, into a temporary folder): what checkpointing adds per chunk at most."""
        import tempfile

        import jax

        from coagentnet.training.checkpoint import Checkpointer, Snapshot

        with tempfile.TemporaryDirectory() as folder:
            t0 = time.perf_counter()
            leaves = [np.asarray(x) for x in jax.tree.leaves(jax.device_get(self.state))]
            Checkpointer(folder, "bench", "").save(Snapshot(1, leaves, [], [], [], 0.0))
            self.checkpoint_s = time.perf_counter() - t0
            self.checkpoint_mb = sum(x.nbytes for x in leaves) / 2**20

    def program_mb(self) -> float | None:
        """XLA's peak memory of the compiled chunk program (all shards), or None if unknown."""
        program = self.programs.chunk_fast  # the program run_chunk runs
        try:
            compiled = program.lower(self.state, self.hyper, self.keys, 0, self.arrays).compile()
            stats = compiled.memory_analysis()
            peak = getattr(stats, "peak_memory_in_bytes", 0) or (
                stats.argument_size_in_bytes
                + stats.output_size_in_bytes
                + stats.temp_size_in_bytes
                - stats.alias_size_in_bytes
            )
        except Exception:  # noqa: BLE001 - an optional statistic; never fail the benchmark
            return None
        return self.layout.shards * peak / 2**20

    def results(self) -> dict:
        import jax

        P, updates = self.population, self.steps * self.population
        wall = float(np.median(self.walls))
        examples = int(np.asarray(self.eval_arrays.mask).sum())  # real, not padding
        leaves = jax.tree.leaves(self.metrics)  # mean training metrics of the last chunk
        return dict(
            updates_per_chunk=updates,
            timed_updates=updates * len(self.walls),
            chunk_s=self.walls,
            first_chunk_s=self.first,
            compile_s=max(self.first - wall, 0.0),
            us_per_update=1e6 * wall / updates,
            updates_per_s=updates / wall,
            cpu_us_per_update=1e6 * float(np.median(self.cpus)) / updates,
            checkpoint_s=self.checkpoint_s,
            checkpoint_mb=self.checkpoint_mb,
            checkpoint_vs_chunk=self.checkpoint_s / wall,
            eval_examples=examples,
            eval_s=self.eval_wall,
            eval_compile_s=max(self.eval_first - self.eval_wall, 0.0),
            eval_us_per_example=1e6 * self.eval_wall / (examples * P),
            program_mb=self.program_mb(),
            diverged=int(np.sum(np.asarray(self.state.diverged)[:P])),
            finite=all(bool(np.isfinite(np.asarray(v)[:P]).all()) for v in leaves),
        )


def prepare(
    case: Case,
    kind: str,
    population: int,
    steps: int,
    repeats: int,
    devices,
    row,
    eval_chunk=None,
    member_tile=None,
):
    """Build, place and warm up (compile) one rule's population; None if it would not fit.

    ``eval_chunk``: evaluation chunk size, instead of
    :data:`coagentnet.training.evaluation.MAX_CHUNK`; ``member_tile``: members per vmapped
    step, instead of the engine's (0: a device's whole population).
    """
    import jax

    from coagentnet.training.batches import training_data
    from coagentnet.training.evaluation import eval_arrays
    from coagentnet.training.members import population_setup
    from coagentnet.training.memory import tree_bytes
    from coagentnet.training.trainer import Trainer

    cfg, data = bench_config(case, kind, steps, repeats)
    prepared = training_data(cfg, data)
    trainer = Trainer(cfg, prepared)
    if eval_chunk is not None:  # evaluate takes its arrays as an argument: swap them
        trainer.eval_arrays = eval_arrays(prepared.eval_splits, max_chunk=eval_chunk)
    row["eval_chunk"] = int(trainer.eval_arrays.mask.shape[1])  # examples per scan step
    if trainer.source.steps_per_chunk != steps:  # the scan must be as long as we report
        raise AssertionError(f"chunk has {trainer.source.steps_per_chunk} updates, not {steps}")
    # The same set-up as training: members split over every core / GPU.
    hyper, keys, layout = population_setup(
        [cfg] * population, range(population), devices, member_tile
    )
    row.update(shards=layout.shards, padded_population=layout.padded, member_tile=layout.tile)
    shapes = jax.eval_shape(trainer.programs(layout).init, keys, hyper)
    state_mb = tree_bytes(shapes) / 2**20
    row["state_mb"] = state_mb
    available = available_mb(devices[0])
    need = STATE_FACTOR * state_mb
    if available is not None and need > 0.8 * available:
        row["skipped"] = f"needs ~{need:,.0f} MB, {available:,.0f} MB available"
        return None
    return _Run(trainer, layout, hyper, keys, steps, population)


def eval_subset(arrays: EvalChunks, population: int) -> EvalChunks:
    """The first evaluation chunks of ``arrays`` (see
    :func:`coagentnet.training.evaluation.eval_arrays`) holding at most :data:`EVAL_BUDGET`
    network-examples for ``population`` members (at least one chunk)."""
    chunks, size = arrays.mask.shape
    keep = max(1, min(chunks, EVAL_BUDGET // (population * size)))
    return arrays._replace(**{k: v[:keep] for k, v in arrays._asdict().items()})


def _row_header(case: Case, rule: str, population: int, steps: int, repeats: int, dev) -> dict:
    return {
        "case": case.name,
        "kind": rule,
        "rule": (case.coagent if rule == "coagent" else case.backprop)["rule"],
        "population": population,
        "steps": steps,
        "repeats": repeats,
        "device": dev.platform,
        "device_kind": getattr(dev, "device_kind", dev.platform),
    }
