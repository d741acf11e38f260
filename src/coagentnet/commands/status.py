"""coagentnet status FILE: how many of a sweep's runs are done, running, pending,
diverged or failed (a run whose sweep process died counts as pending).

FILE is a sweep file (its runs, in its store) or a store alone (every run it holds)."""

from __future__ import annotations

from pathlib import Path

from coagentnet.commands.options import is_store_file

#: Failed runs listed with their error, at most.
_SHOW_ERRORS = 5


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("status", help="progress of a sweep file", description=__doc__)
    p.add_argument("file", help="sweep file (YAML), or a store (.sqlite) alone")
    p.add_argument("--preset", help="apply this preset of the file (e.g. quick, paper)")
    p.add_argument("--store", help="results database (default: results/<sweep name>.sqlite)")


def run(args) -> int:
    from coagentnet.commands.common import UsageError, open_store, store_option
    from coagentnet.sweeps import sweepfile

    if is_store_file(args.file):
        return _store_status(Path(args.file))
    sweep = sweepfile.load(args.file, preset=args.preset)
    path = store_option(args.store, sweep.name)
    ids = [r.id for r in sweep.runs]
    if not path.exists():  # a mistyped --store must not read as "all pending"
        raise UsageError(f"no results: {path} does not exist (run 'coagentnet sweep' first)")
    with open_store(path, readonly=True) as store:
        counts = store.counts(ids)
        errors = store.errors(ids)
        damaged = [i for i in store.damaged() if i in set(ids)]
    _print(sweep.name, len(ids), counts, errors, path, damaged)
    return 0


def _store_status(path: Path) -> int:
    from coagentnet.commands.common import UsageError, open_store

    if not path.exists():
        raise UsageError(f"no such store: {path}")
    with open_store(path, readonly=True) as store:
        counts, errors, damaged = store.counts(), store.errors(), store.damaged()
    _print(path.stem, sum(counts.values()), counts, errors, path, damaged)
    return 0


def _print(name: str, total: int, counts: dict, errors: dict, path: Path, damaged=()) -> None:
    from coagentnet.sweeps.store import STATUSES

    parts = ", ".join(f"{k} {counts[k]}" for k in STATUSES)
    print(f"{name}: {total} runs: {parts} (store {path})")
    for run_id, text in list(errors.items())[:_SHOW_ERRORS]:
        last = text.rstrip().splitlines()[-1] if text.strip() else "unknown error"
        print(f"  failed {run_id}: {last}")
    if len(errors) > _SHOW_ERRORS:
        print(f"  ... and {len(errors) - _SHOW_ERRORS} more failed runs")
    for run_id in damaged[:_SHOW_ERRORS]:
        print(
            f"  damaged {run_id}: stored complete, but its 'final' is unreadable or it has no "
            "metrics; counted pending (a sweep runs it again)"
        )
    if len(damaged) > _SHOW_ERRORS:
        print(f"  ... and {len(damaged) - _SHOW_ERRORS} more damaged runs")
