"""What the verbs share: the user error they raise, the default store of a sweep, opening a
store, and the progress display. Verbs import this module, never each other."""

from __future__ import annotations

from pathlib import Path

from coagentnet.commands import progress as _progress
from coagentnet.errors import UsageError


def default_store(name: str) -> Path:
    return Path("results") / f"{name}.sqlite"


def store_option(store: str | None, name: str) -> Path:
    """The store a verb uses: ``--store`` (not empty), else the default for the sweep."""
    if store is None:
        return default_store(name)
    if not store.strip():
        raise UsageError("--store: empty path; give a .sqlite file")
    return Path(store)


def open_store(path: Path, readonly: bool = False):
    """Open a store; a file that is not one is a user error (one line, exit 2)."""
    import sqlite3

    from coagentnet.sweeps.store import Store, StoreError

    try:
        return Store(path, readonly=readonly)
    except StoreError:
        raise  # its message names the store already
    except (sqlite3.Error, OSError) as err:
        raise UsageError(f"cannot open store {path}: {err}") from None


#: The one progress display (:mod:`coagentnet.commands.progress`), where the verbs look for it.
Progress = _progress.Progress
