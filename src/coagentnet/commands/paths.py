"""Checks of the files and folders a verb will write or read beside its stores. Each raises an
error whose message is one line naming the option or file and what was expected; the CLI prints
it and exits with code 2.

They run before any work, so a refused input never leaves a file behind or changes one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def output_file(path: str | Path, option: str, error: type[Exception]) -> Path:
    """Check that a file can be written at ``path`` (its folder may not exist yet): not a
    folder, and the nearest existing folder above it accepts a new file. Nothing is left
    behind by the check."""
    path = Path(path)
    if str(path) == "":
        raise error(f"{option}: empty path")
    if path.is_dir():
        raise error(f"{option}: {path} is a folder, expected a file path")
    _writable_folder(path.parent, option, error)
    return path


def output_folder(path: str | Path, option: str, error: type[Exception]) -> Path:
    """Check that ``path`` is (or can be made) a folder that accepts new files."""
    path = Path(path)
    if str(path) == "":
        raise error(f"{option}: empty path")
    if path.exists() and not path.is_dir():
        raise error(f"{option}: {path} is a file, expected a folder")
    _writable_folder(path, option, error)
    return path


def _writable_folder(folder: Path, option: str, error: type[Exception]) -> None:
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise error(f"{option}: {existing} is a file, cannot make a folder under it")
    # Try it for real: permission bits say nothing for root, /proc or a read-only mount.
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".coagentnet-probe-")
    except OSError as err:
        raise error(f"{option}: cannot write in {existing} ({err.strerror or err})") from None
    os.close(fd)
    os.unlink(probe)


def read_timings(path: Path, error: type[Exception]) -> dict | None:
    """The ``timings.json`` that ``reproduce`` leaves beside its stores (None if absent);
    a damaged one is a one-line error naming it."""
    import json

    if not path.exists():
        return None
    try:
        timings = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise error(f"{path}: not a readable timings file ({err})") from None
    if not isinstance(timings, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in timings.values()
    ):
        raise error(f"{path}: expected a JSON object of study -> seconds")
    return timings


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (existing or not, through links and ``..``)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(os.path.realpath(a)) == Path(os.path.realpath(b))


__all__ = ["output_file", "output_folder", "read_timings", "same_file"]
