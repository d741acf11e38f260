"""coagentnet sweep FILE: run a sweep file's missing runs and store their results.

Resumable: runs already complete in the store are skipped, runs left ``running`` by a sweep
that died are taken again, and runs a live sweep is training are left to it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from coagentnet.commands.common import Progress, open_store, store_option
from coagentnet.commands.options import float_option, nonnegative_float, positive_float
from coagentnet.config import POPULATION_SCALARS, varying_fields
from coagentnet.sweeps.provenance import note_sweep_file
from coagentnet.training.checkpoint import DEFAULT_INTERVAL_S


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep", help="run a sweep file (resumes: only missing runs)", description=__doc__
    )
    p.add_argument("file", help="sweep file (YAML)")
    p.add_argument("--preset", help="apply this preset of the file (e.g. quick, paper)")
    p.add_argument("--store", help="results database (default: results/<sweep name>.sqlite)")
    p.add_argument(
        "--backend",
        choices=("local", "process", "ray"),
        default="local",
        help="where populations run: this process (default), a process pool, or Ray",
    )
    p.add_argument("--workers", type=int, help="populations at once (process: 2; ray: cluster)")
    p.add_argument("--address", help="Ray cluster address (ray backend); default: start one")
    p.add_argument(
        "--cpus-per-task", type=positive_float, help="Ray CPUs per population (default 1)"
    )
    p.add_argument(
        "--gpus-per-task", type=nonnegative_float, help="Ray GPUs per population (default 0)"
    )
    p.add_argument(
        "--max-population",
        "--population-size",
        type=int,
        help="most runs per population (1: each run alone); default: as memory allows",
    )
    p.add_argument("--memory-mb", type=positive_float, help="memory budget per population (MiB)")
    p.add_argument("--dry-run", action="store_true", help="print the plan; run nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--checkpoint-every",
        type=float_option,
        default=DEFAULT_INTERVAL_S,
        metavar="SECONDS",
        help="least wall time between two checkpoints of a population, taken at evaluations "
        "into <store>.checkpoints/ so a killed sweep resumes mid-population "
        f"(0: at every evaluation; default {DEFAULT_INTERVAL_S:g})",
    )
    p.add_argument(
        "--no-checkpoints", action="store_true", help="write no checkpoints (resume per run)"
    )
    p.add_argument(
        "--save-params",
        action="store_true",
        help="keep each run's final parameters in <store>.params/<run id>.npz (with its config)",
    )


def run(args) -> int:
    from coagentnet.commands.common import UsageError
    from coagentnet.sweeps import backends, plan, sweepfile
    from coagentnet.sweeps.driver import run_missing
    from coagentnet.sweeps.plan import check_configs
    from coagentnet.sweeps.store import COMPLETE

    # every check happens here, before any work
    sweep = sweepfile.load(args.file, preset=args.preset)
    for flag in ("workers", "max_population"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UsageError(f"--{flag.replace('_', '-')}: must be >= 1, got {value}")
    # An option the chosen backend would ignore is a mistake the user should hear about.
    only = {"address": "ray", "cpus_per_task": "ray", "gpus_per_task": "ray"}
    if args.backend == "local":
        only["workers"] = "process or ray"
    for flag, backend in only.items():
        if getattr(args, flag) is not None and args.backend not in backend.split(" or "):
            raise UsageError(f"--{flag.replace('_', '-')}: only with --backend {backend}")
    every = args.checkpoint_every
    if not 0 <= every < float("inf"):
        raise UsageError(f"--checkpoint-every: must be a finite number >= 0, got {every}")
    trainer = os.environ.get(backends.TRAINER_ENV, backends.DEFAULT_TRAINER)
    store_path = store_option(args.store, sweep.name)
    max_pop = args.max_population or sweep.max_population
    memory_mb = args.memory_mb or sweep.memory_mb
    workers = args.workers or (2 if args.backend == "process" else 1)
    check_configs([r.config for r in sweep.runs], _bytes(memory_mb))

    if args.dry_run:
        status = {}
        if store_path.exists():
            with open_store(store_path, readonly=True) as store:
                status = store.statuses([r.id for r in sweep.runs])
        todo = [r for r in sweep.runs if status.get(r.id, "pending") not in (*COMPLETE, "running")]
        pops = plan.plan(
            todo, max_population=max_pop, memory_bytes=_bytes(memory_mb), workers=workers
        )
        _print_plan(sweep, todo, pops, store_path)
        return 0

    _check_trainer(trainer, load=args.backend == "local")
    options, params_dir = train_options(store_path, args)

    quiet = getattr(args, "verbosity", 0) < 0  # -q: only warnings and errors on stderr

    def announce(found) -> None:
        if quiet:
            return
        # One write per line (print writes the text and its newline apart): a Ctrl-C that
        # lands here must not glue "interrupted" to the end of this line.
        sys.stderr.write(
            f"sweep {sweep.name}: {found.runs} runs, {found.complete} complete, {found.busy} "
            f"running elsewhere, {found.todo} to run in {found.populations} populations "
            f"({args.backend}); store {store_path}\n"
        )

    with open_store(store_path) as store:
        note_sweep_file(store, args.file)  # provenance: which file (by hash) asked for the runs
        summary = run_missing(
            sweep,
            store,
            lambda: _backend(args, trainer, workers),
            None if args.no_progress else Progress,
            max_population=max_pop,
            memory_bytes=_bytes(memory_mb),
            on_plan=announce,
            options=options,
            params_dir=params_dir,
        )
    if not quiet or summary.failed:
        sys.stderr.write(
            f"sweep {sweep.name}: {summary.done} done, {summary.diverged} diverged, "
            f"{summary.failed} failed, {summary.skipped} left to another sweep\n"
        )
    if params_dir is not None and summary.complete:
        sys.stderr.write(
            f"coagentnet: warning: {summary.complete} runs were already complete: their "
            "parameters were not saved (only runs trained with --save-params keep them)\n"
        )
    for error in dict.fromkeys(summary.errors):  # distinct errors, in order
        print(f"  error: {error}", file=sys.stderr)
    return 1 if summary.failed else 0


def train_options(store_path: Path, args) -> tuple:
    """The :class:`TrainOptions` and parameter folder that ``args`` ask for next to
    ``store_path``; the checkpoint folder is checked for writing before anything runs."""
    from coagentnet.commands.common import UsageError
    from coagentnet.sweeps.population_worker import TrainOptions
    from coagentnet.training.checkpoint import CheckpointPolicy, check_writable, checkpoint_dir

    policy = None
    if not args.no_checkpoints:
        directory = checkpoint_dir(store_path)
        try:
            check_writable(directory)
        except OSError as err:
            raise UsageError(f"--store: {err}") from None
        policy = CheckpointPolicy(str(directory), args.checkpoint_every)
    params_dir = store_path.with_name(store_path.name + ".params") if args.save_params else None
    return TrainOptions(policy, keep_params=args.save_params), params_dir


def _check_trainer(trainer, load: bool) -> None:
    """Fail early if a trainer given by name (the testing hook) cannot be found. Only the local
    backend imports it here: importing it in a driver that then starts Ray or spawns workers
    buys nothing."""
    import importlib.util

    from coagentnet.commands.common import UsageError
    from coagentnet.sweeps import backends

    if callable(trainer):  # the real one, already imported
        return
    module = trainer.partition(":")[0]
    try:
        if load:
            backends.resolve_trainer(trainer)
        elif importlib.util.find_spec(module) is None:
            raise ImportError(f"no module named {module!r}")
    except (ImportError, AttributeError) as err:
        raise UsageError(f"cannot load trainer {trainer!r}: {err}") from None


def _bytes(memory_mb: float | None) -> int | None:
    # A budget past 2^62 bytes means "no limit"; int() of an overflowed product would raise.
    return None if memory_mb is None else int(min(memory_mb * 2**20, 2.0**62))


def _backend(args, trainer, workers):
    from coagentnet.commands.common import UsageError
    from coagentnet.sweeps import backends

    if args.backend == "local":
        return backends.LocalBackend(trainer)
    if args.backend == "process":
        return backends.ProcessBackend(trainer, workers)
    try:
        import ray  # noqa: F401
    except ImportError:
        raise UsageError("--backend ray needs Ray: pip install 'coagentnet[ray]'") from None
    return backends.RayBackend(
        trainer,
        address=args.address,
        workers=args.workers,
        num_cpus=1.0 if args.cpus_per_task is None else args.cpus_per_task,
        num_gpus=0.0 if args.gpus_per_task is None else args.gpus_per_task,
    )


def _print_plan(sweep, todo, pops, store_path) -> None:
    from coagentnet.training.memory import member_bytes

    merged = f" ({sweep.duplicates} duplicate grid points merged)" if sweep.duplicates else ""
    print(
        f"sweep {sweep.name}: {len(sweep.runs)} runs{merged}, "
        f"{len(sweep.runs) - len(todo)} complete or running, {len(todo)} to run "
        f"in {len(pops)} populations; store {store_path}"
    )
    varying = varying_fields([r.config for r in todo], exclude=POPULATION_SCALARS)
    for i, pop in enumerate(pops, 1):
        cfg = pop.runs[0].config
        label = " ".join(f"{k}={getattr(cfg, k)}" for k in varying)
        mib = member_bytes(cfg) / 2**20
        print(f"  population {i}: {len(pop)} runs, ~{mib:.1f} MiB/member {label}".rstrip())
