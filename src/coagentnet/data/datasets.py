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
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import sources
from .errors import DataError
from .idx import read_idx_pair
from .splits import check_split_seed, split_indices, standardize

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


# A loader returns (task, num_classes, (x_train, y_train, x_val, y_val, x_test, y_test)).
_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_Loaded = tuple[str, int, _Arrays]


def _sizes(n: int, val: float, test: float) -> tuple[int, int, int]:
    n_val, n_test = round(n * val), round(n * test)
    return n - n_val - n_test, n_val, n_test


def _split3(x, y, sizes, split_seed, stratify) -> _Arrays:
    tr, va, te = split_indices(len(y), sizes, split_seed, y if stratify else None)
    return x[tr], y[tr], x[va], y[va], x[te], y[te]


def _pixels(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, rows, cols]`` -> float32 ``[N, rows*cols]`` in [-1, 1]."""
    x = images.reshape(len(images), -1).astype(np.float32)
    return (x / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5)


def _digits(data_dir, split_seed, download) -> _Loaded:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.data / 16.0 * 2.0 - 1.0).astype(np.float32)
    y = bunch.target.astype(np.int32)
    return "classification", 10, _split3(x, y, _sizes(len(y), 0.2, 0.2), split_seed, True)


def _idx_full(name: str) -> Callable[..., _Loaded]:
    def load(data_dir, split_seed, download) -> _Loaded:
        source = sources.IDX_SOURCES[name]
        files = sources.find_files(source, sources.ALL_STEMS, data_dir, download=download)
        tr_img, tr_lab = read_idx_pair(files[sources.TRAIN_IMAGES], files[sources.TRAIN_LABELS])
        te_img, te_lab = read_idx_pair(files[sources.TEST_IMAGES], files[sources.TEST_LABELS])
        if tr_img.shape[1:] != te_img.shape[1:]:
            raise DataError(
                f"{name}: training images are {tr_img.shape[1:]} but test images are "
                f"{te_img.shape[1:]} ({files[sources.TEST_IMAGES]})"
            )
        x, y = _pixels(tr_img), tr_lab.astype(np.int32)
        n_val = round(len(y) / 6)  # 10k of the official 60k
        tr, va = split_indices(len(y), (len(y) - n_val, n_val), split_seed, y)
        arrays = (x[tr], y[tr], x[va], y[va], _pixels(te_img), te_lab.astype(np.int32))
        return "classification", 10, arrays

    return load


def _shared_mnist_dirs() -> list[Path]:
    """``shared/data/mnist`` beside the repository (found from the package or the cwd)."""
    roots = [Path(__file__).resolve().parents[3], Path.cwd(), *list(Path.cwd().parents)[:3]]
    dirs = []
    for root in roots:
        dirs += [root.parent / "shared" / "data" / "mnist", root / "shared" / "data" / "mnist"]
    return dirs


def _mnist_test10k(data_dir, split_seed, download) -> _Loaded:
    stems = (sources.TEST_IMAGES, sources.TEST_LABELS)
    files = sources.find_files(
        sources.IDX_SOURCES["mnist"],
        stems,
        data_dir,
        subdirs=("mnist-test10k", "mnist"),
        extra_dirs=_shared_mnist_dirs(),
        download=download,
    )
    images, labels = read_idx_pair(*(files[s] for s in stems))
    x, y = _pixels(images), labels.astype(np.int32)
    return "classification", 10, _split3(x, y, _sizes(len(y), 0.2, 0.2), split_seed, True)


def _regression(x: np.ndarray, y: np.ndarray, split_seed: int) -> _Arrays:
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    return _split3(x, y, _sizes(len(y), 0.1, 0.1), split_seed, False)


def _require(module: str, dataset: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise DataError(
            f"data set {dataset} needs the Python package {package}: pip install {package}"
        ) from None


def _boston(data_dir, split_seed, download) -> _Loaded:
    x, y = _require("mlxtend.data", "boston").boston_housing_data()
    if x.shape != (506, 13):
        raise DataError(f"boston: mlxtend returned shape {x.shape}, expected (506, 13)")
    return "regression", 0, _regression(x, y, split_seed)


def _diabetes(data_dir, split_seed, download) -> _Loaded:
    from sklearn.datasets import load_diabetes

    # scaled=False: raw features, like boston; normalize=True standardises both the same way.
    bunch = load_diabetes(scaled=False)
    return "regression", 0, _regression(bunch.data, bunch.target, split_seed)


@lru_cache(maxsize=1)
def _mnist1d_raw() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The canonical MNIST-1D set generated offline by the ``mnist1d`` package.

    ``mnist1d.data.make_dataset`` with the package's default arguments (5000 sequences of length
    40, generation seed 42, 4000 train / 1000 test) builds it from the 10 templates with random
    padding, scaling, translation, correlated and iid noise and shear; it downloads nothing (only
    ``get_dataset`` would). It seeds NumPy's and Python's global generators, so we restore them.
    """
    md = _require("mnist1d.data", "mnist1d")
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = md.make_dataset(md.get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return d["x"], d["y"], d["x_test"], d["y_test"]


def _mnist1d(data_dir, split_seed, download) -> _Loaded:
    x, y, x_test, y_test = _mnist1d_raw()
    x, y = x.astype(np.float32), y.astype(np.int32)
    tr, va = split_indices(len(y), _sizes(len(y), 0.2, 0.0)[:2], split_seed, y)
    arrays = (x[tr], y[tr], x[va], y[va], x_test.astype(np.float32), y_test.astype(np.int32))
    return "classification", 10, arrays


_LOADERS: dict[str, Callable[..., _Loaded]] = {
    "digits": _digits,
    "mnist": _idx_full("mnist"),
    "fashion-mnist": _idx_full("fashion-mnist"),
    "mnist-test10k": _mnist_test10k,
    "mnist1d": _mnist1d,
    "boston": _boston,
    "diabetes": _diabetes,
}

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


def add_loader(name: str, loader: Callable[..., _Loaded], shape: tuple) -> None:
    """Register a loader and its shape (used by :mod:`coagentnet.data.custom`)."""
    _LOADERS[name] = loader
    SHAPES[name] = shape


def loader_of(name: str) -> Callable[..., _Loaded] | None:
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
