"""A disk memo of :func:`~coagentnet.data.splits.split_indices`, so a repeated command skips
scikit-learn's import (about as long as JAX's on a small CPU) when its split is known.

The memo never changes a split: it is keyed by everything the split depends on (the number of
examples, the part sizes, the split seed, the stratification labels' bytes and scikit-learn's
version), and a file that is unreadable or is not a partition of ``range(n)`` into parts of the
requested sizes is ignored and written again. Files are ``.npz`` read without pickle.

The memo lives under ``$XDG_CACHE_HOME/coagentnet/splits`` (or ``~/.cache/...``);
``COAGENTNET_SPLIT_CACHE`` names another folder, or ``0`` / ``off`` turns it off. A folder that
cannot be written is skipped silently: the memo is an optimisation only.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from coagentnet import cache_dirs

ENV = "COAGENTNET_SPLIT_CACHE"
_FORMAT = b"split-indices-v1"


def _key(n: int, sizes: Sequence[int], split_seed: int, stratify: np.ndarray | None) -> str:
    h = hashlib.sha256(_FORMAT)
    try:
        h.update(metadata.version("scikit-learn").encode())
    except metadata.PackageNotFoundError:
        h.update(b"no-sklearn")
    h.update(repr((int(n), [int(s) for s in sizes], int(split_seed))).encode())
    if stratify is not None:
        labels = np.ascontiguousarray(stratify)
        h.update(f"{labels.dtype.str}{labels.shape}".encode())
        h.update(labels.tobytes())
    return h.hexdigest()[:32]


def _valid(parts: list[np.ndarray], n: int, sizes: Sequence[int]) -> bool:
    if [len(p) for p in parts] != [int(s) for s in sizes]:
        return False
    if any(p.dtype != np.int64 or p.ndim != 1 for p in parts):
        return False
    joined = np.sort(np.concatenate(parts))
    return bool(np.array_equal(joined, np.arange(n)))


def _read(path: Path, n: int, sizes: Sequence[int]) -> tuple[np.ndarray, ...] | None:
    try:
        with np.load(path, allow_pickle=False) as f:
            parts = [f[f"part{i}"] for i in range(len(sizes))]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return tuple(parts) if _valid(parts, n, sizes) else None


def _write(path: Path, parts: tuple[np.ndarray, ...]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, **{f"part{i}": p for i, p in enumerate(parts)})
        os.replace(tmp, path)  # readers never see a half-written file
    except OSError:
        pass


def memoised(
    compute: Callable[[], tuple[np.ndarray, ...]],
    n: int,
    sizes: Sequence[int],
    split_seed: int,
    stratify: np.ndarray | None,
) -> tuple[np.ndarray, ...]:
    """``compute()`` (the split's index arrays), read from the memo when it holds a valid copy."""
    folder = cache_dirs.cache_dir(ENV, "splits")
    if folder is None:
        return compute()
    path = folder / f"{_key(n, sizes, split_seed, stratify)}.npz"
    cached = _read(path, n, sizes)
    if cached is not None:
        return cached
    parts = compute()
    _write(path, parts)
    return parts
