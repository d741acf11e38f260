"""Exporting a store: its runs and metrics as flat rows (config fields as columns), written as
CSV or Parquet (``coagentnet export``)."""

from __future__ import annotations

import csv
from pathlib import Path

from coagentnet.sweeps.store import RUN_COLUMNS, Store


def export_tables(store: Store, ids: list[str]) -> tuple[list[dict], list[dict]]:
    """(runs, metrics) as lists of flat dicts, config fields as columns.

    runs: one row per run (``RUN_COLUMNS``, every config field, ``final/<key>`` columns).
    metrics: one row per value: run, seed, every config field, step, split, metric, layer,
    value. Only complete runs have metrics.
    """
    runs = store.runs(ids)
    order = {i: k for k, i in enumerate(ids)}
    runs.sort(key=lambda r: order.get(r["id"], len(order)))
    finals = sorted({k for r in runs for k in r["final"]})
    run_rows, by_id = [], {}
    for r in runs:
        row = {c: r[c] for c in RUN_COLUMNS}
        row.update(r["config"])
        row.update({f"final/{k}": r["final"].get(k) for k in finals})
        run_rows.append(row)
        by_id[r["id"]] = {"run": r["id"], "seed": r["seed"], **r["config"]}
    metric_rows = []
    for r in runs:
        head = by_id[r["id"]]
        for step, split, metric, layer, value in store.metrics(r["id"]):
            metric_rows.append(
                {
                    **head,
                    "step": step,
                    "split": split,
                    "metric": metric,
                    "layer": layer,
                    "value": value,
                }
            )
    return run_rows, metric_rows


def write_csv(rows: list[dict], path: Path) -> None:
    """Rows of dicts to CSV (None or a missing key as an empty cell); columns in the order
    they first appear (a store may hold runs of older configs with other fields). Writes in
    place: :func:`write_tables` writes through temporary files."""
    with open(path, "w", newline="") as f:
        if not rows:
            return
        columns = list(dict.fromkeys(k for row in rows for k in row))
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def write_parquet(rows: list[dict], path: Path) -> None:
    """Rows of dicts to Parquet through pandas + pyarrow (ImportError if either is missing)."""
    import pandas as pd
    import pyarrow  # noqa: F401  (pandas would otherwise try fastparquet or fail obscurely)

    pd.DataFrame.from_records(rows).to_parquet(path, index=False)


def write_tables(tables: list[tuple[list[dict], Path]], fmt: str, option: str = "--out") -> None:
    """Write each (rows, path) as CSV or Parquet, all or nothing: through temporary files in
    the same folders, renamed into place once every file is complete (:mod:`coagentnet.atomic`:
    links, folders and SQLite files at a path are refused)."""
    from coagentnet.atomic import write_files

    write = write_parquet if fmt == "parquet" else write_csv

    def fill(temps: list[Path]) -> None:
        for (rows, _), tmp in zip(tables, temps, strict=True):
            write(rows, tmp)

    write_files([path for _, path in tables], fill, option=option)
