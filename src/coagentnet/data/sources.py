"""Where the IDX data sets live: search locations, the cache, and verified downloads.

Search order for a data set (first folder holding every required file wins):

1. the explicit ``data_dir`` argument (``--data-dir``): ``<data_dir>/<name>/`` then ``<data_dir>/``;
2. the environment variable ``COAGENTNET_DATA_DIR``: the same two folders;
3. known system locations (Debian's ``dataset-fashion-mnist`` installs
   ``/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``);
4. extra folders a data set names (the 10k MNIST test digits in ``../shared/data/mnist``);
5. the cache ``$XDG_CACHE_HOME/coagentnet/<name>`` (default ``~/.cache/coagentnet/<name>``),
   which a download fills, verifying each file's published checksum, when allowed.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import DataError
from .idx_catalog import (  # noqa: F401 (ALL_STEMS, KNOWN_FILES and the stems re-exported)
    ALL_STEMS,
    DATA_DIR_ENV,
    IDX_SOURCES,
    KNOWN_FILES,
    TEST_IMAGES,
    TEST_LABELS,
    TRAIN_IMAGES,
    TRAIN_LABELS,
    IdxSource,
    fingerprint,
    foreign_file,
)

__all__ = [
    "DATA_DIR_ENV",
    "IDX_SOURCES",
    "IdxSource",
    "cache_dir",
    "download_files",
    "find_files",
    "fingerprint",
    "foreign_file",
    "idx_candidates",
    "verify_checksum",
]

OFFLINE_ENV = "COAGENTNET_OFFLINE"


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/coagentnet`` (default ``~/.cache/coagentnet``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "coagentnet"


def idx_candidates(stem: str) -> tuple[str, ...]:
    """File names accepted for an IDX stem, preferred first.

    Besides ``train-images-idx3-ubyte[.gz]`` we accept the dotted spelling
    ``train-images.idx3-ubyte`` that some redistributions use.
    """
    dotted = stem.replace("-idx", ".idx")
    return (f"{stem}.gz", stem, f"{dotted}.gz", dotted)


def _find_in(folder: Path, stems: Sequence[str]) -> dict[str, Path] | None:
    found = {}
    for stem in stems:
        hit = next((folder / n for n in idx_candidates(stem) if (folder / n).is_file()), None)
        if hit is None:
            return None
        found[stem] = hit
    return found


def _unique(paths: list[Path]) -> list[Path]:
    seen, out = set(), []
    for p in paths:
        key = os.path.abspath(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def search_dirs(
    subdirs: Sequence[str],
    data_dir: str | os.PathLike | None,
    system_dirs: Sequence[str] = (),
    extra_dirs: Sequence[Path] = (),
) -> list[Path]:
    """Folders searched before the cache, in order (see the module docstring)."""
    dirs: list[Path] = []
    for base in (data_dir, os.environ.get(DATA_DIR_ENV) or None):
        if base is not None:
            base = Path(base).expanduser()
            dirs += [base / s for s in subdirs] + [base]
    dirs += [Path(d) for d in system_dirs] + list(extra_dirs)
    return _unique(dirs)


def verify_checksum(path: Path, expected: str) -> None:
    """Check ``path`` against ``"<algorithm>:<hex>"``; raise DataError naming the file if not."""
    algorithm, _, digest = expected.partition(":")
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != digest.lower():
        raise DataError(
            f"checksum mismatch for {path.name}: {algorithm} {h.hexdigest()}, expected {digest}"
        )


def _urlretrieve(url: str, dest: Path) -> None:
    """Copy ``url`` to ``dest`` (the default fetch; urllib handles http(s) and file URLs)."""
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        for chunk in iter(lambda: response.read(1 << 20), b""):
            out.write(chunk)


def download_files(
    source: IdxSource,
    dest_dir: Path,
    stems: Sequence[str],
    *,
    fetch: Callable[[str, Path], None] = _urlretrieve,
) -> dict[str, Path]:
    """Download the ``.gz`` files for ``stems`` into ``dest_dir``, verifying each checksum.

    A file already present and matching its checksum is kept. Each download goes to a
    ``.part`` file that is renamed only after it verifies, so an interrupted or corrupt download
    never looks complete. Mirrors are tried in order.

    Returns:
      stem -> path of the verified ``.gz`` file.

    Raises:
      DataError: when no mirror gives a file with the right checksum (one line, last reason).
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    for stem in stems:
        fname = f"{stem}.gz"
        expected = source.checksums[fname]
        dest = dest_dir / fname
        if dest.is_file():
            try:
                verify_checksum(dest, expected)
                out[stem] = dest
                continue
            except DataError:
                dest.unlink()  # a stale or corrupt copy: fetch it again
        part = dest.with_name(fname + ".part")
        reason = "no mirrors"
        for mirror in source.mirrors:
            url = mirror + fname
            try:
                fetch(url, part)
                verify_checksum(part, expected)
            except (OSError, DataError) as exc:  # URLError and timeouts are OSErrors
                reason = f"{url}: {exc}"
                part.unlink(missing_ok=True)
                continue
            os.replace(part, dest)
            out[stem] = dest
            break
        else:
            raise DataError(f"download of {source.name} file {fname} failed ({reason})")
    return out


def find_files(
    source: IdxSource,
    stems: Sequence[str],
    data_dir: str | os.PathLike | None = None,
    *,
    subdirs: Sequence[str] | None = None,
    extra_dirs: Sequence[Path] = (),
    download: bool = True,
    fetch: Callable[[str, Path], None] = _urlretrieve,
) -> dict[str, Path]:
    """Locate the IDX files ``stems`` of ``source`` (search order in the module docstring).

    Downloads into the cache only when no folder holds them, ``download`` is true and the
    environment variable ``COAGENTNET_OFFLINE`` is not set to a true value.

    Returns:
      stem -> path of the file (``.gz`` or raw).

    Raises:
      DataError: one line listing where we looked, why a download did not help, and how to get
        the data.
    """
    subdirs = (source.name,) if subdirs is None else tuple(subdirs)
    if data_dir is not None:
        # An explicit folder is the user's choice of data: never fall back to another copy
        # (the system's or the cache's) when it is missing or incomplete.
        base = Path(data_dir).expanduser()
        if not base.is_dir():
            raise DataError(f"data_dir: {base} is not a folder")
        explicit = _unique([base / s for s in subdirs] + [base])
        for folder in explicit:
            found = _find_in(folder, stems)
            if found is not None:
                wrong = foreign_file(source, found)
                if wrong is not None:
                    raise DataError(f"data_dir: {wrong}; name a folder of {source.name}'s files")
                return found
        raise DataError(
            f"data_dir: no {source.name} IDX files ({', '.join(stems)}) in "
            f"{', '.join(map(str, explicit))}. To get it: {source.how_to_get}"
        )
    cache = cache_dir() / source.name
    dirs = search_dirs(subdirs, data_dir, source.system_dirs, extra_dirs) + [cache]
    skipped = []
    for folder in dirs:
        found = _find_in(folder, stems)
        if found is not None:
            wrong = foreign_file(source, found)
            if wrong is None:
                return found
            skipped.append(wrong)  # e.g. Fashion-MNIST in $COAGENTNET_DATA_DIR: look further
    offline = os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}
    if not download or offline:
        why = "download disabled"
    else:
        try:
            return download_files(source, cache, stems, fetch=fetch)
        except DataError as exc:
            why = str(exc)
    looked = ", ".join(str(d) for d in dirs)
    if skipped:
        why += " (skipped: " + "; ".join(skipped) + ")"
    raise DataError(
        f"{source.name} IDX files ({', '.join(stems)}) not found; looked in {looked}; {why}. "
        f"To get it: {source.how_to_get}"
    )
