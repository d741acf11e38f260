"""Your own arrays as a named data set: ``register_dataset(name, x, y)`` and then
``Config(dataset=name)`` trains on them like on a built-in set.

Inputs become float32 ``[N, D]``; integer labels ``[N]`` make a classification set
(``num_classes = max label + 1`` unless given), float targets ``[N]`` or ``[N, k]`` a regression
set. Without explicit validation and test arrays, ``x, y`` are split 60/20/20 by the config's
``split_seed`` (stratified for classification), like the built-in ``digits``.
"""

from __future__ import annotations

import numpy as np

from . import datasets
from .errors import DataError
from .splits import split_indices

__all__ = ["register_dataset", "unregister_dataset"]

#: Names registered here (built-ins can never be removed).
_REGISTERED: set[str] = set()


def _as_arrays(name: str, x, y, task: str | None):
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2:
        raise DataError(f"data set {name}: x must be 2-D [N, D], got shape {x.shape}")
    if y.ndim == 0 or len(y) != len(x):
        raise DataError(
            f"data set {name}: x has {len(x)} rows but y has {y.shape[0] if y.ndim else 0}"
        )
    if x.shape[1] == 0 or x.shape[0] == 0:
        raise DataError(f"data set {name}: x has no rows or no columns, shape {x.shape}")
    for label, a in (("x", x), ("y", y)):
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise DataError(f"data set {name}: {label} must be numbers, got dtype {a.dtype}")
        if not np.all(np.isfinite(a)):
            raise DataError(f"data set {name}: {label} holds NaN or infinite values")
    if task is None:
        task = "classification" if np.issubdtype(y.dtype, np.integer) else "regression"
    x = x.astype(np.float32)
    if task == "classification":
        if y.ndim != 1 or not np.all(np.asarray(y) == np.round(y)):
            raise DataError(f"data set {name}: class labels must be integers [N], got {y.shape}")
        if y.size and y.min() < 0:
            raise DataError(f"data set {name}: class labels must be >= 0, got {int(y.min())}")
        y = y.astype(np.int32)
    else:
        y = y.astype(np.float32).reshape(len(y), -1)
    return x, y, task


def register_dataset(
    name: str,
    x,
    y,
    *,
    x_val=None,
    y_val=None,
    x_test=None,
    y_test=None,
    task: str | None = None,
    num_classes: int | None = None,
    replace: bool = False,
) -> None:
    """Make arrays loadable as data set ``name`` (``load_dataset(name)``, ``Config(dataset=)``).

    Args:
      name: a new name (a built-in or already registered name is a ``DataError``).
      x, y: inputs ``[N, D]`` and labels ``[N]`` (ints: classification) or targets ``[N]`` /
        ``[N, k]`` (floats: regression); the training split, or everything if no val/test given.
      x_val, y_val, x_test, y_test: explicit validation and test splits (both or neither).
      task: ``"classification"`` or ``"regression"`` (default: from ``y``'s dtype).
      num_classes: classification only; default ``max label + 1`` over every split.
      replace: replace a data set registered earlier under ``name`` (the notebook's
        edit-and-rerun loop). Loads cached for the old arrays are never returned again: the
        training's data cache is keyed by the loader itself (:func:`datasets.loader_of`), and
        ``coagentnet.register_dataset`` also drops it (:func:`coagentnet.api.drop_caches`).
        Without it a registered name is a one-line ``DataError`` naming the existing set.

    The arrays are checked now (shapes, dtypes, labels) so a mistake fails here, not in training.
    """
    if not isinstance(name, str) or not name:
        raise DataError(f"data set {name!r}: the name is empty; pick another")
    if name in datasets.DATASETS:
        raise DataError(f"data set {name!r} is built in: the name is taken; pick another")
    if name in _REGISTERED and not replace:
        task_, d, out, rows = datasets.dataset_shape(name)
        raise DataError(
            f"data set {name!r} is already registered ({task_}, {rows} rows x {d} features); "
            "pass replace=True to replace it"
        )
    if name in datasets.dataset_names() and name not in _REGISTERED:
        raise DataError(f"data set {name!r}: the name is taken; pick another")
    if name == "correlated":
        raise DataError("data set 'correlated' is the built-in stream; pick another name")
    given = [a is not None for a in (x_val, y_val, x_test, y_test)]
    if any(given) and not all(given):
        raise DataError(f"data set {name}: give x_val, y_val, x_test and y_test, or none of them")
    x, y, task = _as_arrays(name, x, y, task)
    splits = None
    if all(given):
        xv, yv, _ = _as_arrays(name, x_val, y_val, task)
        xt, yt, _ = _as_arrays(name, x_test, y_test, task)
        splits = (x, y, xv, yv, xt, yt)
        if min(len(y), len(yv), len(yt)) == 0:
            raise DataError(f"data set {name}: every split needs at least one row")
    labels = [y] + ([splits[3], splits[5]] if splits else [])
    if task == "classification":
        classes = num_classes or int(max(int(a.max()) for a in labels if a.size)) + 1
    else:
        classes = 0

    def load(data_dir, split_seed, download):
        if splits is not None:
            return task, classes, splits
        n = len(y)
        n_val = n_test = round(n * 0.2)
        stratify = y if task == "classification" else None
        tr, va, te = split_indices(n, (n - n_val - n_test, n_val, n_test), split_seed, stratify)
        return task, classes, (x[tr], y[tr], x[va], y[va], x[te], y[te])

    # Build it once with the default split: the Dataset checks run now.
    if splits is None and len(y) < 5:
        raise DataError(f"data set {name}: {len(y)} rows are too few to split 60/20/20")
    try:
        probe = datasets.Dataset(name, task, *load(None, 0, False)[2], classes)
    except ValueError as err:  # scikit-learn's stratified split: a class with one member
        if isinstance(err, DataError):
            raise
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"data set {name}: cannot split it stratified ({reason})") from None
    rows = len(y) + (len(splits[1]) + len(splits[3]) if splits else 0)
    datasets.add_loader(name, load, (task, probe.in_dim, probe.out_dim, rows))
    _REGISTERED.add(name)


def unregister_dataset(name: str) -> None:
    """Remove a data set added by :func:`register_dataset` (built-ins stay)."""
    if name not in _REGISTERED:
        raise DataError(f"data set {name!r} was not added by register_dataset")
    datasets.remove_loader(name)
    _REGISTERED.discard(name)
