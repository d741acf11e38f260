"""Compact run records: a store's finished runs as small files that can be committed.

A store (SQLite) is a working file: large, binary, ignored by git, and lost with the machine
that wrote it. A *record* keeps what the analysis needs of one complete run, in two files
named by the run id, so that runs finished in different working stretches can be added to
one folder without merging anything:

- ``<id>.json``: id, seed, status, config, final values, updates, timings, device and the
  versions (the ``git`` commit among them) the run was trained with;
- ``<id>.metrics.csv.gz``: every metric row ``step,split,metric,layer,value`` (layer empty
  for whole-network metrics), values written with ``repr`` so they read back bitwise (an
  empty value is the store's NULL, a diverged run's NaN).

:class:`Records` reads a folder of them back with the store's read interface (``runs``,
``metrics``, ``statuses``), so every analysis that takes a store also takes records, and a
test can check that both give the same numbers.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path

from coagentnet.sweeps.store import COMPLETE, RUN_COLUMNS, Store

#: Suffixes of a record's two files.
RUN_SUFFIX = ".json"
METRICS_SUFFIX = ".metrics.csv.gz"


class RecordsError(ValueError):
    """A records folder that is missing, empty or damaged (the message is one line)."""


def write_records(store: Store, out: str | Path, ids: Iterable[str] | None = None) -> list[str]:
    """Write a record for every complete run of ``store`` (of ``ids`` if given) into ``out``.

    Runs still pending, running or failed are skipped: a record is final. An existing record
    of the same run is rewritten with identical bytes (gzip without a time stamp), so running
    this again after more runs finish only adds files. Returns the ids written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for run in store.runs(None if ids is None else list(ids)):
        if run["status"] not in COMPLETE:
            continue
        head = {c: run[c] for c in RUN_COLUMNS}
        head["versions"] = _json_dict(run["versions"])
        head["config"], head["final"] = run["config"], run["final"]
        text = json.dumps(head, indent=1, sort_keys=True) + "\n"
        (out / f"{run['id']}{RUN_SUFFIX}").write_text(text)
        (out / f"{run['id']}{METRICS_SUFFIX}").write_bytes(_metrics_csv(store.metrics(run["id"])))
        written.append(run["id"])
    return written


def _json_dict(text) -> dict:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _metrics_csv(rows: list[tuple]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("step", "split", "metric", "layer", "value"))
    for step, split, metric, layer, value in rows:
        # SQLite stores NaN as NULL: an empty cell, read back as None like the store gives it.
        cell = "" if value is None else repr(value)
        writer.writerow((step, split, metric, "" if layer is None else layer, cell))
    # mtime=0: the same rows always give the same bytes (no spurious git changes).
    return gzip.compress(buf.getvalue().encode(), compresslevel=9, mtime=0)


class Records:
    """A folder of records, read like a :class:`~coagentnet.sweeps.store.Store`.

    Raises :class:`RecordsError` if the folder does not exist or holds no records.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise RecordsError(f"records {self.path}: no such folder")
        self._runs = {}
        for file in sorted(self.path.glob(f"*{RUN_SUFFIX}")):
            try:
                run = json.loads(file.read_text())
                run_id = run["id"]
            except (OSError, ValueError, KeyError, TypeError) as err:
                raise RecordsError(f"records {file}: unreadable ({type(err).__name__})") from None
            self._runs[run_id] = run
        if not self._runs:
            raise RecordsError(f"records {self.path}: no run records (*{RUN_SUFFIX}) there")

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def runs(self, ids: Iterable[str] | None = None) -> list[dict]:
        """One dict per run, as :meth:`Store.runs` gives it (versions as JSON text)."""
        wanted = None if ids is None else set(ids)
        out = []
        for run_id, run in self._runs.items():
            if wanted is None or run_id in wanted:
                rec = dict(run)
                rec["versions"] = json.dumps(run.get("versions", {}), sort_keys=True)
                # JSON has no NaN: a diverged run's final values are null, as in the store.
                rec["final"] = dict(run.get("final", {}))
                out.append(rec)
        return out

    def statuses(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        wanted = None if ids is None else set(ids)
        return {i: r["status"] for i, r in self._runs.items() if wanted is None or i in wanted}

    def metrics(self, run_id: str) -> list[tuple]:
        """One run's rows ``(step, split, metric, layer, value)`` in the file's order."""
        file = self.path / f"{run_id}{METRICS_SUFFIX}"
        try:
            text = gzip.decompress(file.read_bytes()).decode()
        except (OSError, EOFError) as err:
            raise RecordsError(f"records {file}: unreadable ({type(err).__name__})") from None
        rows = []
        for row in csv.DictReader(io.StringIO(text)):
            layer = int(row["layer"]) if row["layer"] else None
            value = float(row["value"]) if row["value"] else None
            rows.append((int(row["step"]), row["split"], row["metric"], layer, value))
        return rows


def is_finite(value) -> bool:
    """A final value that counts (not None, NaN or inf)."""
    return value is not None and math.isfinite(float(value))


__all__ = ["Records", "RecordsError", "write_records", "is_finite", "RUN_SUFFIX", "METRICS_SUFFIX"]
