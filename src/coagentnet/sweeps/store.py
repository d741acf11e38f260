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
from collections.abc import Iterable, Iterator
from pathlib import Path

from coagentnet.sweeps.plan import Run, canonical_json
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
    owner_alive,
    process_start,
    schema_version,
    store_error,
)
from coagentnet.sweeps.store_series import SERIES_VERSION, metrics_schema, pack, read_all, read_run
from coagentnet.training.results import RunResult


class Store:
    """One experiment's SQLite file.

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

    def _read(self, sql: str, params: tuple | list = ()) -> list:
        """All rows of a query; a damaged file is a one-line StoreError naming the store."""
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as err:
            raise store_error(self.path, err) from None

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

    def claim(self, ids: list[str]) -> list[str]:
        """Mark the given runs running for this process; returns those it got, in order.

        A run is taken if it is pending, failed, or running for a process that is gone (or
        for an earlier Store of this very process). Complete runs and runs held by another
        live process are skipped, so two sweeps of one file never train a run twice.
        """
        with self._transaction():
            rows = dict(
                self._db.execute(
                    f"SELECT id, {TRUSTED_STATUS} || '|' || ifnull(owner, '') FROM runs "
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
        return not same_process and owner_alive(owner)

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


__all__ = [
    "Store",
    "StoreError",
    "STATUSES",
    "COMPLETE",
    "RUN_COLUMNS",
]
