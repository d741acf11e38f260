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
import time
import urllib.parse
from pathlib import Path

from coagentnet.errors import StoreError

#: 2: metrics stored one row per curve (:mod:`coagentnet.sweeps.store_series`); 1: one row
#: per value (still read and written as such).
SCHEMA_VERSION = 2
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


#: meta and runs; the metrics table's DDL depends on the store's version (store_series).
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


def store_error(path: Path, err: sqlite3.Error) -> StoreError:
    text = str(err)
    if "full" in text:
        text += "; runs finished before this are intact, and a later sweep resumes"
    return StoreError(f"store {path}: {text}")


def cannot_open(path: Path, err: sqlite3.Error) -> StoreError:
    """The error of a store that did not open: a read-only or full file system is said as
    such, not as "not a coagentnet results store"."""
    text = str(err)
    if any(w in text for w in ("readonly", "read-only", "disk I/O", "full", "unable to open")):
        return StoreError(f"store {path}: cannot write it ({text})")
    return StoreError(f"store {path}: not a coagentnet results store ({text})")


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path``, None if there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def fold_wal(db: sqlite3.Connection, path: Path) -> str | None:
    """Copy the WAL into the main file (``wal_checkpoint(TRUNCATE)``, waiting at most 2 s for
    readers); return a warning if frames are left only in ``<path>-wal`` (a reader held a
    transaction), else None."""
    try:
        db.execute("PRAGMA busy_timeout = 2000")
        row = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error as err:
        row, reason = None, str(err)
    else:
        reason = "a reader holds it open"
    if row is not None and row[0] == 0 and (row[1] <= 0 or row[2] >= row[1]):
        return None
    return (
        f"store {path}: the latest results are still only in {path}-wal ({reason}); copying "
        f"{path.name} alone would lose them: copy the -wal file with it, or use "
        f"'sqlite3 {path} .backup COPY.sqlite' (the next write folds them in)"
    )


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing store file (autocommit)."""
    if not path.is_file():
        raise FileNotFoundError(path)
    # A URI path is percent-encoded: a raw '#', '?' or '%' in a folder name would end the
    # path early (and then open, or even create, some other file).
    uri = "file:" + urllib.parse.quote(str(path.absolute()))
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # A WAL store in a folder we may not write: the reader cannot make the -shm file.
        # Nothing can be writing it either (no one can make a -wal there), so read it as
        # an immutable file.
        db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=30)
    db.isolation_level = None  # autocommit: transactions are opened explicitly
    db.execute("PRAGMA busy_timeout = 30000")
    return db


def check_schema(db: sqlite3.Connection, path: Path) -> None:
    """Raise StoreError unless ``db`` has a coagentnet store's tables and a known schema."""
    where = f"store {path}"
    for attempt in range(50):
        tables = {
            name: {c[1] for c in db.execute(f"PRAGMA table_info({name})")}
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if tables or attempt == 49:
            break
        time.sleep(0.05)  # a sweep may have just created the file and be writing the schema
    if "meta" not in tables:
        raise StoreError(f"{where}: not a coagentnet results store (no meta table)")
    for name, columns in TABLES.items():
        missing = columns - tables.get(name, set())
        if missing:
            what = "table" if name not in tables else f"columns {', '.join(sorted(missing))}"
            raise StoreError(f"{where}: damaged: {what} missing from {name!r}")
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = row[0] if row is not None else None
    if not (isinstance(version, str | int) and str(version).isdigit()):
        raise StoreError(f"{where}: damaged: schema_version is {version!r}, not an integer")
    if int(version) > SCHEMA_VERSION:
        raise StoreError(f"{where}: unknown store schema {version!r} (newer coagentnet?)")


def schema_version(db: sqlite3.Connection) -> int:
    """The version a (checked) store was made with."""
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row is not None else SCHEMA_VERSION


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
