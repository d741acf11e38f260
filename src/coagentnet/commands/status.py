"""coagentnet status FILE: how many of a sweep's runs are done, running, pending,
diverged or failed (a run whose sweep process died counts as pending)."""

from __future__ import annotations

#: Failed runs listed with their error, at most.
_SHOW_ERRORS = 5


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("status", help="progress of a sweep file", description=__doc__)
    p.add_argument("file", help="sweep file (YAML)")
    p.add_argument("--preset", help="apply this preset of the file (e.g. quick, paper)")
    p.add_argument("--store", help="results database (default: results/<sweep name>.sqlite)")


def run(args) -> int:
    from coagentnet import sweepfile
    from coagentnet.cli import UsageError
    from coagentnet.commands.sweep import open_store, store_option
    from coagentnet.store import STATUSES

    sweep = sweepfile.load(args.file, preset=args.preset)
    path = store_option(args.store, sweep.name)
    ids = [r.id for r in sweep.runs]
    if not path.exists():  # a mistyped --store must not read as "all pending"
        raise UsageError(f"no results: {path} does not exist (run 'coagentnet sweep' first)")
    with open_store(path, readonly=True) as store:
        counts = store.counts(ids)
        errors = store.errors(ids)
    parts = ", ".join(f"{k} {counts[k]}" for k in STATUSES)
    print(f"{sweep.name}: {len(ids)} runs: {parts} (store {path})")
    for run_id, text in list(errors.items())[:_SHOW_ERRORS]:
        last = text.rstrip().splitlines()[-1] if text.strip() else "unknown error"
        print(f"  failed {run_id}: {last}")
    if len(errors) > _SHOW_ERRORS:
        print(f"  ... and {len(errors) - _SHOW_ERRORS} more failed runs")
    return 0
