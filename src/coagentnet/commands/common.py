"""What the verbs share: the user error they raise, the default store of a sweep, opening a
store, and the progress bar. Verbs import this module, never each other."""

from __future__ import annotations

import sys
import time
from pathlib import Path


class UsageError(ValueError):
    """A user error detected by a command (exit code 2, one line)."""


def default_store(name: str) -> Path:
    return Path("results") / f"{name}.sqlite"


def open_store(path: Path, readonly: bool = False):
    """Open a store; a file that is not one is a user error (one line, exit 2)."""
    import sqlite3

    from coagentnet.sweeps.store import Store, StoreError

    try:
        return Store(path, readonly=readonly)
    except (StoreError, sqlite3.Error, OSError) as err:
        raise UsageError(f"cannot open store {path}: {err}") from None


class Progress:
    """Runs done of a total and training updates per second: tqdm if installed, else lines."""

    def __init__(self, total: int):
        self.total, self.done, self.n_updates = total, 0, 0
        self.start = time.perf_counter()
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=total, unit="run", desc="sweep", dynamic_ncols=True)

    def rate(self) -> float:
        return self.n_updates / max(time.perf_counter() - self.start, 1e-9)

    def updates(self, n: int) -> None:
        self.n_updates += n
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.rate():,.0f} updates/s")

    def runs(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.rate():,.0f} updates/s", refresh=False)
            self.bar.update(n)
        else:
            print(
                f"sweep: {self.done}/{self.total} runs, {self.rate():,.0f} updates/s",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
