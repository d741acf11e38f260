"""The results store: one SQLite file per experiment, safe to read while a sweep writes.

Tables::

    runs(id PK, config JSON, seed, status, error, versions JSON, device, host,
         population_size, owner, started_at, finished_at, wall_time_s, compile_time_s,
         updates, final JSON)
    metrics(run, step, split, metric, layer, value)        -- long format, layer NULL if none

``status`` is one of pending, running, done, diverged, failed; done and diverged are
*complete* (their metrics are stored). A finished run is written in one transaction (its
metrics and its row together), so a killed sweep loses only what had not finished. The file
is in WAL mode: readers see the last committed state and never block the writer.

A ``running`` row names its owner as ``host/pid/start`` (the process start time guards
against a recycled pid). The row counts as running only while that process lives; once it is
gone the run is pending again, and the next sweep takes it.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from coagentnet.sweeps.plan import Run, canonical_json
from coagentnet.training.results import RunResult

SCHEMA_VERSION = 1
STATUSES = ("done", "running", "pending", "diverged", "failed")
COMPLETE = ("done", "diverged")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'diverged', 'failed')),
    error TEXT,
    versions TEXT,
    device TEXT,
    host TEXT,
    population_size INTEGER,
    owner TEXT,
    started_at REAL,
    finished_at REAL,
    wall_time_s REAL,
    compile_time_s REAL,
    updates INTEGER,
    final TEXT
);
CREATE TABLE IF NOT EXISTS metrics(
    run TEXT NOT NULL REFERENCES runs(id),
    step INTEGER NOT NULL,
    split TEXT NOT NULL,
    metric TEXT NOT NULL,
    layer INTEGER,
    value REAL
);
-- One value per (run, split, metric, layer, step); NULL layers compare equal through ifnull.
CREATE UNIQUE INDEX IF NOT EXISTS metrics_key
    ON metrics(run, split, metric, ifnull(layer, -1), step);
"""

RUN_COLUMNS = (
    "id",
    "seed",
    "status",
    "error",
    "device",
    "host",
    "population_size",
    "started_at",
    "finished_at",
    "wall_time_s",
    "compile_time_s",
    "updates",
    "versions",
)


class StoreError(RuntimeError):
    """The file is not a coagentnet store, or is from a newer schema."""


def _process_start(pid: int) -> str | None:
    """Start time of a process in clock ticks since boot (Linux), None if unknown or gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name may contain spaces


def _alive(owner: str | None) -> bool:
    """Whether the process named by an owner token still exists (other hosts: assume yes)."""
    if not owner:
        return False
    host, pid, start, *_ = owner.split("/") + ["", "", ""]
    if host != socket.gethostname():
        return True
    if not pid.isdigit():
        return False
    if os.path.isdir("/proc"):
        return start != "" and _process_start(int(pid)) == start
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    """One experiment's SQLite file.

    Args:
      path: the database file; created (with its folder) unless ``readonly``.
      readonly: open an existing file for reading only (never creates or migrates it).
    """

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        if readonly:
            if not self.path.exists():
                raise FileNotFoundError(self.path)
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30)
        # Autocommit mode: every transaction below is opened explicitly with BEGIN.
        self._db.isolation_level = None
        self._db.execute("PRAGMA busy_timeout = 30000")
        if not readonly:
            self._db.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a committed run survives a killed process (not a power cut).
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        self._check_schema()
        pid = os.getpid()
        # Unique per Store object: a recycled pid or a second Store in this process differs.
        self.owner = f"{socket.gethostname()}/{pid}/{_process_start(pid) or ''}/{uuid.uuid4().hex}"

    def _check_schema(self) -> None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path}: not a coagentnet results store ({err})") from None
        if row is None or int(row[0]) > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: unknown store schema {row and row[0]!r}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _transaction(self, immediate: bool = True):
        return _Transaction(self._db, immediate)

    # --- writing ---

    def add_runs(self, runs: Iterable[Run]) -> None:
        """Record planned runs as pending (runs already present are left as they are)."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO runs(id, config, seed) VALUES (?, ?, ?)",
                [(r.id, canonical_json(r.config), r.seed) for r in runs],
            )

    def claim(self, ids: list[str]) -> list[str]:
        """Mark the given runs running for this process; returns those it got, in order.

        A run is taken if it is pending, failed, or running for a process that is gone (or
        for an earlier Store of this very process). Complete runs and runs held by another
        live process are skipped, so two sweeps of one file never train a run twice.
        """
        with self._transaction():
            rows = dict(
                self._db.execute(
                    f"SELECT id, status || '|' || ifnull(owner, '') FROM runs "
                    f"WHERE id IN ({','.join('?' * len(ids))})",
                    ids,
                ).fetchall()
            )
            got = []
            for run_id in ids:
                status, _, owner = rows.get(run_id, "pending|").partition("|")
                if status in COMPLETE or (status == "running" and self._held_by_other(owner)):
                    continue
                got.append(run_id)
            self._db.executemany(
                "UPDATE runs SET status = 'running', owner = ?, host = ?, started_at = ?, "
                "error = NULL WHERE id = ?",
                [(self.owner, socket.gethostname(), time.time(), i) for i in got],
            )
        return got

    def _held_by_other(self, owner: str) -> bool:
        if owner == self.owner:
            return False
        same_process = owner.split("/")[:3] == self.owner.split("/")[:3]
        return not same_process and _alive(owner)

    def release(self, ids: Iterable[str]) -> None:
        """Give back runs this process claimed but did not finish (they become pending)."""
        with self._transaction():
            self._db.executemany(
                "UPDATE runs SET status = 'pending', owner = NULL, started_at = NULL "
                "WHERE id = ? AND status = 'running' AND owner = ?",
                [(i, self.owner) for i in ids],
            )

    def finish(
        self, run: Run, result: RunResult, *, env: dict | None = None, population_size: int = 1
    ) -> bool:
        """Write one finished run (row and metrics) in one transaction.

        Returns False, changing nothing, if the run is already complete: a finished run's
        metrics are never overwritten.
        """
        env = env or {}
        rows = [
            (run.id, int(step), split, metric, None if layer is None else int(layer), float(value))
            for step, split, metric, layer, value in result.metrics
        ]
        with self._transaction():
            status = self._db.execute("SELECT status FROM runs WHERE id = ?", (run.id,)).fetchone()
            if status is not None and status[0] in COMPLETE:
                return False
            if status is None:
                self._db.execute(
                    "INSERT INTO runs(id, config, seed) VALUES (?, ?, ?)",
                    (run.id, canonical_json(run.config), run.seed),
                )
            self._db.execute("DELETE FROM metrics WHERE run = ?", (run.id,))
            self._db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)", rows)
            self._db.execute(
                "UPDATE runs SET status = ?, error = NULL, versions = ?, device = ?, host = ?, "
                "population_size = ?, owner = NULL, finished_at = ?, wall_time_s = ?, "
                "compile_time_s = ?, updates = ?, final = ? WHERE id = ?",
                (
                    "diverged" if result.diverged else "done",
                    json.dumps(env.get("versions", {}), sort_keys=True),
                    env.get("device"),
                    env.get("host"),
                    population_size,
                    time.time(),
                    float(result.wall_time_s),
                    float(result.compile_time_s),
                    int(result.updates),
                    json.dumps({k: float(v) for k, v in result.final.items()}, sort_keys=True),
                    run.id,
                ),
            )
        return True

    def fail(self, ids: Iterable[str], error: str, *, env: dict | None = None) -> None:
        """Mark runs failed with an error text (the last line is the one-line summary)."""
        env = env or {}
        with self._transaction():
            self._db.executemany(
                "UPDATE runs SET status = 'failed', error = ?, owner = NULL, finished_at = ?, "
                "host = ifnull(?, host) WHERE id = ? AND status NOT IN ('done', 'diverged')",
                [(error, time.time(), env.get("host"), i) for i in ids],
            )

    def set_meta(self, key: str, value: str) -> None:
        """Store a free-form note in the ``meta`` table (``coagentnet reproduce`` records which
        study, figure and preset made the store, and the command, so that ``coagentnet
        report`` can remake the report from the store alone)."""
        if key == "schema_version":
            raise ValueError("meta key 'schema_version' is reserved")
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))

    def get_meta(self, key: str) -> str | None:
        """A note written by :meth:`set_meta`, or None."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    # --- reading ---

    def statuses(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """Run id -> effective status; a running row whose process is gone reads pending.

        With ``ids``, runs missing from the store are reported pending.
        """
        rows = self._db.execute("SELECT id, status, owner FROM runs").fetchall()
        have = {}
        for run_id, status, owner in rows:
            if status == "running" and owner != self.owner and not _alive(owner):
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
        q = "SELECT id FROM runs WHERE status IN ('done', 'diverged')"
        return {r[0] for r in self._db.execute(q)}

    def errors(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """Run id -> stored error text, for failed runs."""
        rows = self._db.execute("SELECT id, error FROM runs WHERE status = 'failed'").fetchall()
        wanted = None if ids is None else set(ids)
        return {i: e or "" for i, e in rows if wanted is None or i in wanted}

    def runs(self, ids: Iterable[str] | None = None) -> list[dict]:
        """One dict per run: the ``RUN_COLUMNS``, ``config`` and ``final`` as dicts."""
        cols = ", ".join(RUN_COLUMNS)
        rows = self._db.execute(f"SELECT {cols}, config, final FROM runs ORDER BY rowid").fetchall()
        wanted = None if ids is None else set(ids)
        out = []
        for row in rows:
            rec = dict(zip(RUN_COLUMNS, row[: len(RUN_COLUMNS)], strict=True))
            if wanted is not None and rec["id"] not in wanted:
                continue
            rec["config"] = json.loads(row[-2])
            rec["final"] = json.loads(row[-1]) if row[-1] else {}
            out.append(rec)
        return out

    def metrics(self, run_id: str) -> list[tuple]:
        """One run's rows (step, split, metric, layer, value), in a stable order."""
        return self._db.execute(
            "SELECT step, split, metric, layer, value FROM metrics WHERE run = ? "
            "ORDER BY split, metric, ifnull(layer, -1), step",
            (run_id,),
        ).fetchall()

    def iter_metrics(self, ids: Iterable[str] | None = None) -> Iterator[tuple]:
        """All rows (run, step, split, metric, layer, value), run by run."""
        wanted = None if ids is None else set(ids)
        q = (
            "SELECT run, step, split, metric, layer, value FROM metrics "
            "ORDER BY run, split, metric, ifnull(layer, -1), step"
        )
        for row in self._db.execute(q):
            if wanted is None or row[0] in wanted:
                yield row


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection, immediate: bool):
        self.db, self.begin = db, "BEGIN IMMEDIATE" if immediate else "BEGIN"

    def __enter__(self):
        self.db.execute(self.begin)

    def __exit__(self, exc_type, *exc) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


__all__ = [
    "Store",
    "StoreError",
    "STATUSES",
    "COMPLETE",
    "RUN_COLUMNS",
]
