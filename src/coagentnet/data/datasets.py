"""Fixed (finite) data sets, split into train / validation / test.

Every loader gives float32 inputs ``[N, D]`` and either int32 class labels ``[N]``
(classification) or float32 targets ``[N, 1]`` (regression). Splits use a split seed that is
independent of run seeds (see ``splits.py``); classification splits are stratified, regression
splits are plain random partitions.

==================  ==============  ====================================  ==================
name                task            source                                train/val/test
==================  ==============  ====================================  ==================
``digits``          10 classes      sklearn ``load_digits``, x/16*2-1     1079/359/359
``mnist``           10 classes      IDX files, (x/255-0.5)/0.5            50k/10k/official 10k
``fashion-mnist``   10 classes      IDX files (Debian package or cache)   50k/10k/official 10k
``mnist-test10k``   10 classes      official MNIST 10k test digits only   6000/2000/2000
``mnist1d``         10 classes      ``mnist1d`` package, generated        3200/800/official 1000
``boston``          regression      ``mlxtend`` copy, 506 x 13, raw       404/51/51
``diabetes``        regression      sklearn ``load_diabetes``, raw        354/44/44
==================  ==============  ====================================  ==================

Image data sets (``IMAGE_DATASETS``) load with pixels in [-1, 1] (the paper's range); with
``input_range="unit"`` they are mapped to [0, 1] by x/2 + 1/2 (so 0 and 1 are exact).
The correlated online-regression stream is not a fixed data set: see ``stream.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .builtin_loaders import LOADERS, Loaded
from .errors import DataError
from .splits import check_split_seed, standardize

__all__ = ["DATASETS", "SHAPES", "Dataset", "dataset_names", "dataset_shape", "load_dataset"]

TASKS = ("classification", "regression")


@dataclass(frozen=True, eq=False)  # eq=False: array fields make == and hash meaningless
class Dataset:
    """A data set split three ways.

    Shapes: ``x_* float32 [N, D]``; ``y_* int32 [N]`` (classification, values in
    ``[0, num_classes)``) or ``float32 [N, 1]`` (regression, ``num_classes == 0``).
    """

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    def __post_init__(self):
        if self.task not in TASKS:
            raise DataError(f"Dataset {self.name}: task must be one of {TASKS}, got {self.task!r}")
        classify = self.task == "classification"
        if classify != (self.num_classes > 0):
            raise DataError(
                f"Dataset {self.name}: num_classes must be > 0 for classification and 0 for "
                f"regression, got {self.num_classes} for {self.task}"
            )
        dim = self.x_train.shape[1:] if self.x_train.ndim == 2 else None
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.dtype != np.float32 or x.ndim != 2 or x.shape[1:] != dim:
                raise DataError(
                    f"Dataset {self.name}: x_{split} must be float32 [N, D] with the same D in "
                    f"every split, got {x.dtype} {x.shape}"
                )
            want = (np.int32, 1) if classify else (np.float32, 2)
            if y.dtype != want[0] or y.ndim != want[1] or y.shape[0] != x.shape[0]:
                raise DataError(
                    f"Dataset {self.name}: y_{split} must be {np.dtype(want[0])} with "
                    f"{want[1]} dims and {x.shape[0]} rows, got {y.dtype} {y.shape}"
                )
            if classify and y.size and not (0 <= y.min() and y.max() < self.num_classes):
                raise DataError(
                    f"Dataset {self.name}: y_{split} labels must be in [0, {self.num_classes})"
                )

    @property
    def in_dim(self) -> int:
        """D, the number of input features."""
        return int(self.x_train.shape[1])

    @property
    def out_dim(self) -> int:
        """Read-out width: ``num_classes`` (classification) or the target width (regression)."""
        return self.num_classes if self.task == "classification" else int(self.y_train.shape[1])


#: The loaders by name: the built-ins and any registered with :func:`add_loader`.
_LOADERS: dict[str, Callable[..., Loaded]] = dict(LOADERS)

DATASETS: tuple[str, ...] = tuple(_LOADERS)

#: Data sets of pixels the loaders put in [-1, 1]: the ones ``input_range`` applies to.
IMAGE_DATASETS: tuple[str, ...] = ("digits", "mnist", "fashion-mnist", "mnist-test10k")
INPUT_RANGES: tuple[str, ...] = ("symmetric", "unit")

#: name -> (task, D inputs, outputs (classes; 1 for regression), N examples over all splits):
#: the shapes of the table above, for code that must size a run without loading its data (the
#: planner's memory model). The data tests check every loader against it.
SHAPES: dict[str, tuple[str, int, int, int]] = {
    "digits": ("classification", 64, 10, 1797),
    "mnist": ("classification", 784, 10, 70000),
    "fashion-mnist": ("classification", 784, 10, 70000),
    "mnist-test10k": ("classification", 784, 10, 10000),
    "mnist1d": ("classification", 40, 10, 5000),
    "boston": ("regression", 13, 1, 506),
    "diabetes": ("regression", 10, 1, 442),
}


def dataset_names() -> tuple[str, ...]:
    """Every loadable data set: the built-ins (``DATASETS``) and any added by
    :func:`coagentnet.data.custom.register_dataset`."""
    return tuple(_LOADERS)


def add_loader(name: str, loader: Callable[..., Loaded], shape: tuple) -> None:
    """Register a loader and its shape (used by :mod:`coagentnet.data.custom`)."""
    _LOADERS[name] = loader
    SHAPES[name] = shape


def loader_of(name: str) -> Callable[..., Loaded] | None:
    """The loader registered under ``name`` (None if none): caches of loaded data key on it, so
    a data set registered again under the same name is never served from the old entry."""
    return _LOADERS.get(name)


def remove_loader(name: str) -> None:
    if name in DATASETS:
        raise DataError(f"data set {name!r} is built in")
    _LOADERS.pop(name, None)
    SHAPES.pop(name, None)


def dataset_shape(name: str) -> tuple[str, int, int, int]:
    """``(task, in_dim, out_dim, examples)`` of data set ``name`` without loading it."""
    if name not in SHAPES:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(dataset_names())}")
    return SHAPES[name]


def input_range_problem(name: str, input_range: str) -> str | None:
    """Why ``input_range`` cannot be used with data set ``name`` (one line), or None."""
    if input_range not in INPUT_RANGES:
        return f"input_range: unknown {input_range!r}; expected one of: {', '.join(INPUT_RANGES)}"
    if input_range != "symmetric" and name not in IMAGE_DATASETS:
        return (
            f"input_range: only image data sets ({', '.join(IMAGE_DATASETS)}) take "
            f"{input_range!r}, not {name!r}"
        )
    return None


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    split_seed: int = 0,
    normalize: bool = False,
    download: bool = True,
    input_range: str = "symmetric",
) -> Dataset:
    """Load a fixed data set by name (one of ``DATASETS``; table in the module docstring).

    Args:
      name: data set name.
      data_dir: folder searched first for IDX files (``mnist``, ``fashion-mnist``,
        ``mnist-test10k``); see ``sources.py`` for the full search order.
      split_seed: the split seed (independent of run seeds); equal seeds give equal splits.
      normalize: standardise every feature with the training split's mean and std (off by
        default: the paper did not normalise).
      download: allow downloading missing IDX files into the cache (checksums verified).
      input_range: ``symmetric`` (pixels in [-1, 1]) or ``unit`` ([0, 1]); image data sets
        only. The symmetric arrays are the loaders' own, untouched.

    Raises:
      DataError: unknown name, bad split seed, missing or corrupt data.
    """
    if name == "correlated":
        raise DataError(
            "'correlated' is an online stream, not a fixed data set: use coagentnet.data.stream"
        )
    if name not in _LOADERS:
        raise DataError(f"unknown data set {name!r}; expected one of: {', '.join(dataset_names())}")
    problem = input_range_problem(name, input_range)
    if problem:
        raise DataError(problem)
    split_seed = check_split_seed(split_seed)
    task, num_classes, (xtr, ytr, xva, yva, xte, yte) = _LOADERS[name](
        data_dir, split_seed, download
    )
    if input_range == "unit":
        # Why: with [-1, 1] inputs the always-background pixels (-1 in every image) move the
        # first-layer logits like a bias; at [0, 1] they are 0 and carry no gradient.
        xtr, xva, xte = (x * np.float32(0.5) + np.float32(0.5) for x in (xtr, xva, xte))
    if normalize:
        xtr, xva, xte = standardize(xtr, xva, xte)
    return Dataset(name, task, xtr, ytr, xva, yva, xte, yte, num_classes)
