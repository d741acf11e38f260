"""The results store: one SQLite file per experiment, safe to read while a sweep writes.

Tables::

    runs(id PK, config JSON, seed, status, error, versions JSON, device, host,
         population_size, owner, started_at, finished_at, wall_time_s, compile_time_s,
         updates, final JSON)
    metrics(run, split, metric, layer, step, value)  -- a curve a row (schema 1: a value)

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
import logging
import os
import secrets
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from coagentnet.sweeps.plan import Run, canonical_json
from coagentnet.sweeps.store_claims import StoreClaims
from coagentnet.sweeps.store_reads import StoreReads
from coagentnet.sweeps.store_schema import (
    COMPLETE,
    RUN_COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    STATUSES,
    TRUSTED_STATUS,
    StoreError,
    Transaction,
    cannot_open,
    check_schema,
    file_identity,
    finite,
    fold_wal,
    open_readonly,
    process_start,
    schema_version,
)
from coagentnet.sweeps.store_series import SERIES_VERSION, metrics_schema, pack
from coagentnet.training.results import RunResult


class Store(StoreClaims, StoreReads):
    """One experiment's SQLite file (claiming runs: :class:`.store_claims.StoreClaims`; its
    reading methods: :class:`.store_reads.StoreReads`).

    Args:
      path: the database file; created (with its folder) unless ``readonly``.
      readonly: open an existing file for reading only (never creates or migrates it).
    """

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        try:
            if readonly:
                self._db = open_readonly(self.path)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                created = not self.path.exists()
                self._db = sqlite3.connect(self.path, timeout=30)
                try:
                    self._setup()
                except BaseException:  # interrupted or refused: leave no empty store behind
                    if created:
                        self._db.close()
                        for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
                            p.unlink(missing_ok=True)
                    raise
            self._check_schema()
            self._series = schema_version(self._db) >= SERIES_VERSION
        except sqlite3.Error as err:
            raise cannot_open(self.path, err) from None
        self._identity = file_identity(self.path)
        pid = os.getpid()
        # Unique per Store object: a recycled pid or a second Store in this process differs.
        start = process_start(pid) or ""
        self.owner = f"{socket.gethostname()}/{pid}/{start}/{uuid.uuid4().hex}"

    def _setup(self) -> None:
        """WAL mode and the schema, in one transaction: a reader never sees half a store,
        and a foreign SQLite database is refused before our tables are added to it."""
        self._db.isolation_level = None  # autocommit: transactions are opened explicitly
        self._db.execute("PRAGMA busy_timeout = 30000")
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        if tables and "meta" not in tables:  # checked before anything (even WAL) changes it
            raise StoreError(
                f"store {self.path}: a SQLite database but not a coagentnet results store "
                f"(it has {', '.join(sorted(tables)[:5])}); nothing was changed"
            )
        version = SCHEMA_VERSION
        if tables:  # an existing store: a damaged one is refused, not patched up
            self._check_schema()
            version = schema_version(self._db)  # an older store keeps its metrics format
        self._db.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a committed run survives a killed process (not a power cut).
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            # (executescript would commit the open transaction first: one statement at a time)
            sql = "\n".join(
                line
                for line in (SCHEMA + metrics_schema(version)).splitlines()
                if not line.lstrip().startswith("--")
            )
            for statement in sql.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _check_schema(self) -> None:
        check_schema(self._db, self.path)

    def close(self) -> None:
        if not self.readonly and self._identity is not None:
            # Copy the WAL into the main file now: a reader still open would otherwise keep
            # the results in the -wal file alone, and a copy of the .sqlite file would lose
            # them. Short (a reader must not hold up the exit), so it may fail: then say so.
            warning = fold_wal(self._db, self.path) if self.present() else None
            if warning:
                logging.getLogger("coagentnet.store").warning(warning)
        self._db.close()

    def present(self) -> bool:
        """Whether the store's path still names the file this object has open."""
        return self._identity is not None and file_identity(self.path) == self._identity

    def check_present(self) -> None:
        """Raise StoreError if the store's file was deleted or replaced since it was opened
        (whatever is written to it from then on is lost)."""
        if not self.present():
            raise StoreError(
                f"store {self.path}: deleted or replaced while in use; results written since "
                "then were not saved (run the sweep again)"
            )

    def checkpoint_secret(self) -> str:
        """This store's random key for checkpoint HMACs (made on first use, kept in ``meta``):
        a checkpoint is trusted only if it was written for a run of this very store."""
        with self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('checkpoint_secret', ?)",
                (secrets.token_hex(32),),
            )
        return str(self.get_meta("checkpoint_secret"))

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _transaction(self, immediate: bool = True):
        return Transaction(self._db, immediate, self.path)

    # --- writing ---

    def add_runs(self, runs: Iterable[Run]) -> None:
        """Record planned runs as pending (runs already present are left as they are)."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO runs(id, config, seed) VALUES (?, ?, ?)",
                [(r.id, canonical_json(r.config), r.seed) for r in runs],
            )

    def finish(
        self, run: Run, result: RunResult, *, env: dict | None = None, population_size: int = 1
    ) -> bool:
        """Write one finished run (row and metrics) in one transaction.

        Returns False, changing nothing, if the run is already complete: a finished run's
        metrics are never overwritten.
        """
        env = env or {}
        self.check_present()
        if self._series:  # one row per curve (schema 2)
            rows, insert = pack(run.id, result.metrics), "(run, split, metric, layer, step, value)"
        else:
            insert = "(run, step, split, metric, layer, value)"
            rows = [
                (run.id, int(step), split, metric, None if layer is None else int(layer), float(v))
                for step, split, metric, layer, v in result.metrics
            ]
        with self._transaction():
            status = self._db.execute(
                f"SELECT {TRUSTED_STATUS} FROM runs WHERE id = ?", (run.id,)
            ).fetchone()
            if status is not None and status[0] in COMPLETE:
                return False
            if status is None:
                self._db.execute(
                    "INSERT INTO runs(id, config, seed) VALUES (?, ?, ?)",
                    (run.id, canonical_json(run.config), run.seed),
                )
            self._db.execute("DELETE FROM metrics WHERE run = ?", (run.id,))
            self._db.executemany(f"INSERT INTO metrics{insert} VALUES (?, ?, ?, ?, ?, ?)", rows)
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
                    json.dumps({k: finite(v) for k, v in result.final.items()}, sort_keys=True),
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
        if key in ("schema_version", "checkpoint_secret"):
            raise ValueError(f"meta key {key!r} is reserved")
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))


__all__ = [
    "Store",
    "StoreError",
    "STATUSES",
    "COMPLETE",
    "RUN_COLUMNS",
]
