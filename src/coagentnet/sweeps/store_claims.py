"""Claiming runs in the results store: which process trains which run.

:class:`StoreClaims` is the part of :class:`coagentnet.sweeps.store.Store` that marks runs
running for this process and gives them back; a ``running`` row names its owner, and counts as
held only while that process lives.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterable

from coagentnet.sweeps.store_schema import COMPLETE, TRUSTED_STATUS, owner_alive


class StoreClaims:
    """The claiming methods of :class:`coagentnet.sweeps.store.Store`, which sets these."""

    owner: str
    _db: sqlite3.Connection

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


__all__ = ["StoreClaims"]
