"""Reading the results store: run statuses, errors, rows and metrics, and ``meta`` notes.

:class:`StoreReads` is the reading half of :class:`coagentnet.sweeps.store.Store` (which opens
the file and writes it); a running row whose process is gone reads pending here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from coagentnet.sweeps.store_schema import (
    COMPLETE,
    RUN_COLUMNS,
    STATUSES,
    TRUSTED_STATUS,
    StoreError,
    owner_alive,
    store_error,
)
from coagentnet.sweeps.store_series import read_all, read_run


class StoreReads:
    """The reading methods of :class:`coagentnet.sweeps.store.Store`, which sets these."""

    path: Path
    owner: str
    _db: sqlite3.Connection
    _series: bool

    def _read(self, sql: str, params: tuple | list = ()) -> list:
        """All rows of a query; a damaged file is a one-line StoreError naming the store."""
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as err:
            raise store_error(self.path, err) from None

    def get_meta(self, key: str) -> str | None:
        """A note written by :meth:`set_meta`, or None."""
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    # --- reading ---

    def statuses(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """Run id -> effective status; a running row whose process is gone reads pending.

        With ``ids``, runs missing from the store are reported pending.
        """
        rows = self._read(f"SELECT id, {TRUSTED_STATUS}, owner FROM runs")
        have = {}
        for run_id, status, owner in rows:
            if status == "running" and owner != self.owner and not owner_alive(owner):
                status = "pending"
            have[run_id] = status
        if ids is None:
            return have
        return {i: have.get(i, "pending") for i in ids}

    def counts(self, ids: Iterable[str] | None = None) -> dict[str, int]:
        """Status -> number of runs, for every status in ``STATUSES``."""
        out = dict.fromkeys(STATUSES, 0)
        for status in self.statuses(ids).values():
            out[status] += 1
        return out

    def complete_ids(self) -> set[str]:
        q = f"SELECT id FROM runs WHERE {TRUSTED_STATUS} IN ('done', 'diverged')"
        return {r[0] for r in self._read(q)}

    def damaged(self) -> list[str]:
        """Runs stored as complete whose ``final`` is unreadable or that have no metrics (they
        count as pending, and a sweep runs them again)."""
        q = f"SELECT id FROM runs WHERE status IN {COMPLETE} AND {TRUSTED_STATUS} != status"
        return [r[0] for r in self._read(q)]

    def errors(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """Run id -> stored error text, for failed runs."""
        rows = self._read("SELECT id, error FROM runs WHERE status = 'failed'")
        wanted = None if ids is None else set(ids)
        return {i: e or "" for i, e in rows if wanted is None or i in wanted}

    def runs(self, ids: Iterable[str] | None = None) -> list[dict]:
        """One dict per run: the ``RUN_COLUMNS``, ``config`` and ``final`` as dicts."""
        cols = ", ".join(RUN_COLUMNS)
        cols = cols.replace("status", f"{TRUSTED_STATUS} AS status")
        rows = self._read(f"SELECT {cols}, config, final FROM runs ORDER BY rowid")
        wanted = None if ids is None else set(ids)
        out = []
        for row in rows:
            rec = dict(zip(RUN_COLUMNS, row[: len(RUN_COLUMNS)], strict=True))
            if wanted is not None and rec["id"] not in wanted:
                continue
            rec["config"] = self._json(rec["id"], "config", row[-2])
            rec["final"] = self._json(rec["id"], "final", row[-1]) if row[-1] else {}
            out.append(rec)
        return out

    def _json(self, run_id: str, column: str, text) -> dict:
        try:
            value = json.loads(text)
        except (TypeError, ValueError):
            value = None
        if not isinstance(value, dict):
            raise StoreError(f"store {self.path}: damaged: run {run_id} has a bad {column!r}")
        return value

    def metrics(self, run_id: str) -> list[tuple]:
        """One run's rows (step, split, metric, layer, value), in a stable order."""
        try:
            return read_run(self._db, run_id, self._series)
        except sqlite3.Error as err:
            raise store_error(self.path, err) from None

    def iter_metrics(self, ids: Iterable[str] | None = None) -> Iterator[tuple]:
        """All rows (run, step, split, metric, layer, value), run by run."""
        wanted = None if ids is None else set(ids)
        try:
            for row in read_all(self._db, self._series):
                if wanted is None or row[0] in wanted:
                    yield row
        except sqlite3.Error as err:
            raise store_error(self.path, err) from None


__all__ = ["StoreReads"]
