"""coagentnet export FILE: a sweep's results as CSV or Parquet tables for pandas.

FILE is a sweep file (its runs, from its store) or a store (.sqlite) alone (every run in it).

Writes two files: ``<out>`` with the metrics in long format (one row per run, step, split,
metric, layer; config fields as columns) and ``<out stem>.runs<suffix>`` with one row per run
(status, timings, versions, config fields, ``final/<split>/<metric>`` values).

With ``--records DIR`` it writes instead one compact record per complete run into DIR
(``<run id>.json`` and ``<run id>.metrics.csv.gz``, see :mod:`coagentnet.sweeps.records`):
small files meant to be committed, from which ``coagentnet report --records DIR`` rebuilds
the claim-2 rows and figures without the store.
"""

from __future__ import annotations

from pathlib import Path

from coagentnet.commands.options import is_store_file


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="export a sweep's results", description=__doc__)
    p.add_argument("file", help="sweep file (YAML), or a store (.sqlite) alone")
    p.add_argument("--preset", help="apply this preset of the file (e.g. quick, paper)")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--store", help="results database (default: results/<sweep name>.sqlite)")
    p.add_argument("--out", help="metrics file (default: the store's path, new suffix)")
    p.add_argument(
        "--records", metavar="DIR", help="write one compact record per complete run into DIR"
    )


def run(args) -> int:
    from coagentnet.atomic import check_target
    from coagentnet.commands.common import UsageError, open_store, store_option
    from coagentnet.commands.paths import output_file, same_file
    from coagentnet.sweeps import sweepfile
    from coagentnet.sweeps.export import export_tables, write_tables

    if is_store_file(args.file):
        sweep, path = None, Path(args.file)
    else:
        sweep = sweepfile.load(args.file, preset=args.preset)
        path = store_option(args.store, sweep.name)
    if not path.exists():
        raise UsageError(f"no results: {path} does not exist (run 'coagentnet sweep' first)")
    if args.records:
        return _records(path, sweep, Path(args.records))
    suffix = "." + args.format
    if args.format == "parquet":
        try:
            import pandas  # noqa: F401
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageError(
                "parquet export needs pandas and pyarrow: pip install 'coagentnet[parquet]'"
            ) from None
    out = Path(args.out) if args.out else path.with_suffix(suffix)
    runs_out = out.with_name(f"{out.stem}.runs{out.suffix or suffix}")
    # Never write over the results themselves (--out st.sqlite, or a store named st.csv).
    precious = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(args.file)]
    for target in (out, runs_out):
        if any(same_file(target, p) for p in precious):
            raise UsageError(f"--out: {target} would overwrite the store or sweep file {path}")
        output_file(target, "--out", UsageError)
        check_target(target, "--out")  # a link, a special file or another store: refused
    with open_store(path, readonly=True) as store:
        ids = list(store.statuses()) if sweep is None else [r.id for r in sweep.runs]
        runs, metrics = export_tables(store, ids)
    write_tables([(metrics, out), (runs, runs_out)], args.format)
    print(f"wrote {out} ({len(metrics)} metric rows) and {runs_out} ({len(runs)} runs)")
    return 0


def _records(path: Path, sweep, out: Path) -> int:
    """``--records DIR``: the complete runs' records (of the sweep's runs if a sweep file was
    given, else of every run in the store)."""
    from coagentnet.commands.common import UsageError, open_store
    from coagentnet.commands.paths import output_folder
    from coagentnet.sweeps.records import write_records

    out = output_folder(out, "--records", UsageError)
    with open_store(path, readonly=True) as store:
        ids = None if sweep is None else [r.id for r in sweep.runs]
        written = write_records(store, out, ids)
    print(f"wrote {len(written)} run records to {out}")
    return 0
