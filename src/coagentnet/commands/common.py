"""What the verbs share: the user error they raise, the default store of a sweep, opening a
store, and the progress display. Verbs import this module, never each other."""

from __future__ import annotations

from pathlib import Path

from coagentnet.commands import progress as _progress


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


#: The one progress display (:mod:`coagentnet.commands.progress`), where the verbs look for it.
Progress = _progress.Progress
