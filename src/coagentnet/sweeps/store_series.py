"""Compact metric storage (store schema 2): one ``metrics`` row per curve.

Schema 1 kept one row per evaluated value, ``(run, step, split, metric, layer, value)``, with
a unique index repeating every key: about 115 bytes a value, half of them the index. Schema 2
keeps one row per (run, split, metric, layer) with its steps and values packed as blobs (steps
as little-endian int64 differences, values as little-endian float64 byte-shuffled, each
zlib-compressed): every number is stored bit for bit (a float64 holds what was written; a NaN
reads back as None, as it did from schema 1's REAL column), in a few bytes a value. Readers
get the same ``(step, split, metric, layer, value)`` rows either way; a schema-1 store keeps
its format (it is read and written as before).
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Iterator

import numpy as np

#: The schema version from which metrics are curves (older stores: one row per value).
SERIES_VERSION = 2

#: The schema-1 metrics table: one row per value.
ROWS_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics(
    run TEXT NOT NULL REFERENCES runs(id),
    step INTEGER NOT NULL,
    split TEXT NOT NULL,
    metric TEXT NOT NULL,
    layer INTEGER,
    value REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS metrics_key
    ON metrics(run, split, metric, ifnull(layer, -1), step);
"""

#: The schema-2 metrics table: one row per curve; ``step`` and ``value`` are packed arrays.
SERIES_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics(
    run TEXT NOT NULL REFERENCES runs(id),
    split TEXT NOT NULL,
    metric TEXT NOT NULL,
    layer INTEGER,
    step BLOB NOT NULL,
    value BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS metrics_curve
    ON metrics(run, split, metric, ifnull(layer, -1));
"""


def metrics_schema(version: int) -> str:
    return SERIES_SCHEMA if version >= SERIES_VERSION else ROWS_SCHEMA


def pack(run_id: str, rows: Iterable[tuple]) -> list[tuple]:
    """``(step, split, metric, layer, value)`` rows -> ``(run, split, metric, layer, steps,
    values)`` curve rows, steps ascending. A step given twice for one curve is refused, as
    schema 1's unique index refused it."""
    curves: dict[tuple, dict[int, float]] = {}
    for step, split, metric, layer, value in rows:
        key = (str(split), str(metric), None if layer is None else int(layer))
        curve = curves.setdefault(key, {})
        if int(step) in curve:
            raise sqlite3.IntegrityError(
                f"UNIQUE constraint failed: metrics ({run_id}, {key}, step {int(step)})"
            )
        curve[int(step)] = float(value)
    out = []
    for (split, metric, layer), curve in curves.items():
        steps = sorted(curve)
        values = np.array([curve[s] for s in steps], dtype="<f8")
        out.append((run_id, split, metric, layer, _pack_steps(steps), _pack_values(values)))
    return out


def _pack_steps(steps: list[int]) -> bytes:
    """Ascending steps as zlib'd int64 differences (evaluations are evenly spaced: the
    differences repeat, and compress to almost nothing)."""
    return zlib.compress(np.diff(np.array(steps, dtype="<i8"), prepend=0).tobytes(), 9)


def _pack_values(values: np.ndarray) -> bytes:
    """float64 values, byte-shuffled (the k-th bytes of all values together) then zlib'd: a
    value that was a float32 has four zero low bytes, and the shuffle puts them in one run."""
    shuffled = values.astype("<f8").view(np.uint8).reshape(-1, 8).T
    return zlib.compress(np.ascontiguousarray(shuffled).tobytes(), 9)


def _unpack_values(blob: bytes) -> np.ndarray:
    data = np.frombuffer(zlib.decompress(blob), dtype=np.uint8)
    if data.size % 8:
        raise sqlite3.DatabaseError("a metrics curve's values are not whole float64s")
    return np.ascontiguousarray(data.reshape(8, -1).T).view("<f8").ravel()


def unpack(split: str, metric: str, layer, steps: bytes, values: bytes) -> Iterator[tuple]:
    """One curve row -> its ``(step, split, metric, layer, value)`` rows, steps ascending."""
    s = np.cumsum(np.frombuffer(zlib.decompress(steps), dtype="<i8"))
    v = _unpack_values(values)
    if len(s) != len(v):
        raise sqlite3.DatabaseError(f"a {split}/{metric} curve has {len(s)} steps, {len(v)} values")
    for step, value in zip(s.tolist(), v.tolist(), strict=True):
        # NaN reads as None, as schema 1 gave it (SQLite stores a NaN REAL as NULL)
        yield (step, split, metric, layer, None if value != value else value)


#: The order readers get rows in (both schemas): curve by curve, steps ascending.
CURVE_ORDER = "split, metric, ifnull(layer, -1)"


def read_run(db: sqlite3.Connection, run_id: str, series: bool) -> list[tuple]:
    """One run's ``(step, split, metric, layer, value)`` rows in :data:`CURVE_ORDER`."""
    if not series:
        return db.execute(
            "SELECT step, split, metric, layer, value FROM metrics WHERE run = ? "
            f"ORDER BY {CURVE_ORDER}, step",
            (run_id,),
        ).fetchall()
    q = "SELECT split, metric, layer, step, value FROM metrics WHERE run = ?"
    curves = db.execute(f"{q} ORDER BY {CURVE_ORDER}", (run_id,)).fetchall()
    return [row for curve in curves for row in unpack(*curve)]


def read_all(db: sqlite3.Connection, series: bool) -> Iterator[tuple]:
    """Every ``(run, step, split, metric, layer, value)`` row, run by run."""
    if not series:
        yield from db.execute(
            "SELECT run, step, split, metric, layer, value FROM metrics "
            f"ORDER BY run, {CURVE_ORDER}, step"
        )
        return
    q = f"SELECT run, split, metric, layer, step, value FROM metrics ORDER BY run, {CURVE_ORDER}"
    for run, *curve in db.execute(q):
        for row in unpack(*curve):
            yield (run, *row)


__all__ = ["SERIES_VERSION", "metrics_schema", "pack", "unpack", "read_run", "read_all"]
