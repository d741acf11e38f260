"""Writing output files so that nothing is lost: every export and report file goes to a
temporary file in its own folder, is flushed to disk (fsync) and only then renamed over the
final name. An interrupt, a full disk or an error half-way leaves the previous file (or none),
never a truncated one, and no temporary file.

The final path is checked first: a symbolic link is refused (writing through it would
overwrite whatever it points at), and so is anything that is not a regular file, or a file
that is a SQLite database (a results store is never overwritten by an export or a report).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from coagentnet.errors import OutputError

SQLITE_MAGIC = b"SQLite format 3\x00"


def check_target(path: str | Path, option: str = "output") -> None:
    """Raise :class:`OutputError` (one line naming ``option`` and ``path``) unless ``path``
    is absent or an existing regular file that is not a SQLite database."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise OutputError(f"{option}: cannot check {path} ({err.strerror or err})") from None
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(f"{option}: {path} is a symbolic link; refusing to write through it")
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{option}: {path} is a folder, expected a file path")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{option}: {path} is not a regular file; refusing to write over it")
    if is_sqlite(path):
        raise OutputError(
            f"{option}: {path} is a SQLite database (a results store?); refusing to overwrite it"
        )


def is_sqlite(path: str | Path) -> bool:
    """Whether ``path`` is a regular file that starts like a SQLite database (never blocks:
    a FIFO or device is not opened)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        return os.read(fd, len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False
    finally:
        os.close(fd)


def write_files(
    targets: Sequence[str | Path],
    write: Callable[[list[Path]], None],
    *,
    option: str = "output",
) -> list[Path]:
    """Write several files all or nothing: ``write(temps)`` fills one temporary path per
    target (same folder, same suffix); they are fsynced and renamed into place only once
    ``write`` has returned. A failure to write raises :class:`OutputError` naming the file and
    the cause; on any exception (an interrupt included) the temporary files are removed, the
    targets keep what they had, and folders made for them are removed again."""
    targets = [Path(t) for t in targets]
    for target in targets:
        check_target(target, option)
    made: list[Path] = []
    temps: list[Path] = []
    current = targets[0] if targets else Path()
    try:
        for target in targets:
            current = target
            made.extend(_make_folder(target.parent))
            fd, tmp = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}"
            )
            os.close(fd)
            temps.append(Path(tmp))
        current = targets[0] if targets else Path()
        write(list(temps))
        for tmp, target in zip(temps, targets, strict=True):
            current = target
            _fsync(tmp)
        for tmp, target in zip(temps, targets, strict=True):
            current = target
            check_target(target, option)  # still nothing we must not replace
            os.replace(tmp, target)
        for folder in dict.fromkeys(t.parent for t in targets):
            fsync_dir(folder)
        made.clear()
    except OSError as err:
        raise OutputError(f"{option}: cannot write {current} ({err.strerror or err})") from None
    finally:
        for tmp in temps:
            try:
                tmp.unlink()
            except OSError:
                pass
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
    return targets


def write_text(path: str | Path, text: str, *, option: str = "output") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`write_files`)."""
    return write_files([path], lambda t: t[0].write_text(text, encoding="utf-8"), option=option)[0]


def write_bytes(path: str | Path, data: bytes, *, option: str = "output") -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`write_files`)."""
    return write_files([path], lambda t: t[0].write_bytes(data), option=option)[0]


def _make_folder(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; return those made, outermost first."""
    missing = []
    for d in [folder, *folder.parents]:
        if d.exists():
            break
        missing.append(d)
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (where the OS allows opening a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["check_target", "fsync_dir", "is_sqlite", "write_files", "write_text", "write_bytes"]
