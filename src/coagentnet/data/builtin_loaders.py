"""The built-in data sets' loaders: each reads or generates one data set and splits it.

A loader takes ``(data_dir, split_seed, download)`` and returns the task, the number of
classes and the six split arrays; the table of data sets is in :mod:`coagentnet.data.datasets`,
which checks the arrays and applies ``input_range`` and ``normalize``.
"""

from __future__ import annotations

import gzip
import importlib.util
import random
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import sources
from .errors import DataError
from .idx import read_idx_pair
from .splits import split_indices

# A loader returns (task, num_classes, (x_train, y_train, x_val, y_val, x_test, y_test)).
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Loaded = tuple[str, int, Arrays]


def _sizes(n: int, val: float, test: float) -> tuple[int, int, int]:
    n_val, n_test = round(n * val), round(n * test)
    return n - n_val - n_test, n_val, n_test


def _split3(x, y, sizes, split_seed, stratify) -> Arrays:
    tr, va, te = split_indices(len(y), sizes, split_seed, y if stratify else None)
    return x[tr], y[tr], x[va], y[va], x[te], y[te]


def _pixels(images: np.ndarray) -> np.ndarray:
    """uint8 ``[N, rows, cols]`` -> float32 ``[N, rows*cols]`` in [-1, 1]."""
    x = images.reshape(len(images), -1).astype(np.float32)
    return (x / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5)


def _digits_table() -> np.ndarray:
    """scikit-learn's digits as its ``load_digits`` reads them: float64 ``[1797, 65]``, the
    last column the label. Read from the file scikit-learn ships, without importing it (the
    import costs about as much as JAX's); ``load_digits`` itself where the file is not found.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rt") as f:
                return np.loadtxt(f, delimiter=",")
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return np.column_stack([bunch.data, bunch.target])


def _digits(data_dir, split_seed, download) -> Loaded:
    table = _digits_table()
    x = (table[:, :-1] / 16.0 * 2.0 - 1.0).astype(np.float32)
    y = table[:, -1].astype(np.int32)
    return "classification", 10, _split3(x, y, _sizes(len(y), 0.2, 0.2), split_seed, True)


def _idx_full(name: str) -> Callable[..., Loaded]:
    def load(data_dir, split_seed, download) -> Loaded:
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


def _mnist_test10k(data_dir, split_seed, download) -> Loaded:
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


def _regression(x: np.ndarray, y: np.ndarray, split_seed: int) -> Arrays:
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    return _split3(x, y, _sizes(len(y), 0.1, 0.1), split_seed, False)


def _require(module: str, dataset: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise DataError(
            f"data set {dataset} needs the Python package {package}: pip install {package}"
        ) from None


def _boston(data_dir, split_seed, download) -> Loaded:
    x, y = _require("mlxtend.data", "boston").boston_housing_data()
    if x.shape != (506, 13):
        raise DataError(f"boston: mlxtend returned shape {x.shape}, expected (506, 13)")
    return "regression", 0, _regression(x, y, split_seed)


def _diabetes(data_dir, split_seed, download) -> Loaded:
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


def _mnist1d(data_dir, split_seed, download) -> Loaded:
    x, y, x_test, y_test = _mnist1d_raw()
    x, y = x.astype(np.float32), y.astype(np.int32)
    tr, va = split_indices(len(y), _sizes(len(y), 0.2, 0.0)[:2], split_seed, y)
    arrays = (x[tr], y[tr], x[va], y[va], x_test.astype(np.float32), y_test.astype(np.int32))
    return "classification", 10, arrays


#: name -> loader of every built-in data set.
LOADERS: dict[str, Callable[..., Loaded]] = {
    "digits": _digits,
    "mnist": _idx_full("mnist"),
    "fashion-mnist": _idx_full("fashion-mnist"),
    "mnist-test10k": _mnist_test10k,
    "mnist1d": _mnist1d,
    "boston": _boston,
    "diabetes": _diabetes,
}
