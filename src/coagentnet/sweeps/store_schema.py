"""The results store's schema and its plumbing: tables, statuses, what a damaged run counts
as, the store's one error type, whether a ``running`` row's owner process still lives, and the
write transaction.

See :mod:`coagentnet.sweeps.store` for the store itself.
"""

from __future__ import annotations

import math
import os
import socket
import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1
STATUSES = ("done", "running", "pending", "diverged", "failed")
COMPLETE = ("done", "diverged")
#: The tables and columns a store must have (a dropped table or a foreign file is refused).
TABLES = {
    "meta": {"key", "value"},
    "runs": {"id", "config", "seed", "status", "owner", "final"},
    "metrics": {"run", "step", "split", "metric", "layer", "value"},
}
#: A run's status as readers should trust it: a done/diverged row whose ``final`` is not a
#: JSON object or that has no metrics (a damaged store) is not complete, and is run again.
TRUSTED_STATUS = (  # (json_type raises on malformed JSON: only asked once json_valid said yes)
    "CASE WHEN status IN ('done', 'diverged') AND ("
    "CASE WHEN json_valid(final) THEN json_type(final) != 'object' ELSE 1 END "
    "OR NOT EXISTS (SELECT 1 FROM metrics WHERE run = runs.id)) "
    "THEN 'pending' ELSE status END"
)

def finite(value) -> float | None:
    """A final value as stored: NaN and inf become JSON null (``json.dumps`` would write
    ``NaN``, which is not JSON, and SQLite's ``json_valid`` would then make a finished run
    look unfinished: see ``TRUSTED_STATUS``)."""
    value = float(value)
    return value if math.isfinite(value) else None


SCHEMA = """
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
    """The file is not a coagentnet store, is from a newer schema, is damaged, or cannot be
    written (a full disk); the message is one line naming the store."""


def store_error(path: Path, err: sqlite3.Error) -> StoreError:
    text = str(err)
    if "full" in text:
        text += "; runs finished before this are intact, and a later sweep resumes"
    return StoreError(f"store {path}: {text}")


def process_start(pid: int) -> str | None:
    """Start time of a process in clock ticks since boot (Linux), None if unknown or gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name may contain spaces


def owner_alive(owner: str | None) -> bool:
    """Whether the process named by an owner token still exists (other hosts: assume yes)."""
    if not owner:
        return False
    host, pid, start, *_ = owner.split("/") + ["", "", ""]
    if host != socket.gethostname():
        return True
    if not pid.isdigit():
        return False
    if os.path.isdir("/proc"):
        return start != "" and process_start(int(pid)) == start
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection, immediate: bool, path: Path):
        self.db, self.begin, self.path = db, "BEGIN IMMEDIATE" if immediate else "BEGIN", path

    def __enter__(self):
        try:
            self.db.execute(self.begin)
        except sqlite3.Error as err:
            raise store_error(self.path, err) from None

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        except sqlite3.Error as err:
            if exc_type is None:  # the commit failed (a full disk): nothing of it was written
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise store_error(self.path, err) from None
        if isinstance(exc, sqlite3.Error):  # one line naming the store, not a traceback
            raise store_error(self.path, exc) from None
