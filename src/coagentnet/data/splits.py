"""Deterministic train/validation/test splits and feature standardisation.

The split seed is separate from every run seed: a data set split with ``split_seed=s`` is the
same for every run, on every machine (sklearn's ``train_test_split`` on a NumPy
``RandomState(s)``, whose stream NumPy keeps stable across versions).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import split_cache
from .errors import DataError

__all__ = ["check_split_seed", "split_indices", "standardize"]


def check_split_seed(split_seed: int) -> int:
    """Return ``split_seed`` if it is an int in ``[0, 2**32)``; else raise DataError."""
    if isinstance(split_seed, bool) or not isinstance(split_seed, int | np.integer):
        raise DataError(f"split_seed must be an integer, got {split_seed!r}")
    if not 0 <= int(split_seed) < 2**32:
        raise DataError(f"split_seed must be in [0, 2**32), got {split_seed}")
    return int(split_seed)


def split_indices(
    n: int, sizes: Sequence[int], split_seed: int, stratify: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """Partition ``range(n)`` into disjoint index sets of the given sizes.

    Args:
      n: number of examples.
      sizes: one size per part (e.g. ``(train, val, test)``); they must sum to ``n``.
      split_seed: the fixed split seed.
      stratify: optional labels ``[n]``; each part then keeps the class proportions (up to
        rounding), as in sklearn's stratified ``train_test_split``.

    Returns:
      one sorted ``int64`` index array per part. A repeated split is read from a disk memo
      (:mod:`coagentnet.data.split_cache`) without importing scikit-learn.
    """
    sizes = [int(s) for s in sizes]
    if sum(sizes) != n or any(s <= 0 for s in sizes):
        raise DataError(f"split sizes {sizes} must be positive and sum to {n}")
    seed = check_split_seed(split_seed)
    return split_cache.memoised(
        lambda: _split_with_sklearn(n, sizes, seed, stratify), n, sizes, seed, stratify
    )


def _split_with_sklearn(
    n: int, sizes: list[int], split_seed: int, stratify: np.ndarray | None
) -> tuple[np.ndarray, ...]:
    from sklearn.model_selection import train_test_split

    rng = np.random.RandomState(split_seed)
    rest = np.arange(n)
    parts = []
    # Peel off one part at a time; the last part is what remains.
    for size in sizes[:-1]:
        strat = None if stratify is None else stratify[rest]
        part, rest = train_test_split(rest, train_size=size, random_state=rng, stratify=strat)
        parts.append(np.sort(part))
    parts.append(np.sort(rest))
    return tuple(p.astype(np.int64) for p in parts)


def standardize(x_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Standardise features ``[N, D]`` with the training set's mean and std (float32).

    Constant training features are only centred (their std is taken as 1) so that no value
    becomes NaN or infinite.
    """
    mean = x_train.mean(axis=0, dtype=np.float64)
    std = x_train.std(axis=0, dtype=np.float64)
    std = np.where(std > 0, std, 1.0)
    return tuple(((x - mean) / std).astype(np.float32) for x in (x_train, *others))
