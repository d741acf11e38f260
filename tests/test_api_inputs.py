"""The Python API checks its inputs as the CLI does (issue 23; input audit 2, section 17):
register_dataset refuses non-finite values and x/y of different lengths, train refuses seeds
that are not ints in [0, 2^32 - 1] (bool, float and str included), before any work."""

from __future__ import annotations

import numpy as np
import pytest

import coagentnet as cn
from coagentnet.data import DataError
from coagentnet.data.custom import unregister_dataset
from coagentnet.errors import ConfigError

RNG = np.random.default_rng(0)
X = RNG.normal(size=(100, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 100)


def _nan(a):
    a = a.copy()
    a[3, 0] = np.nan
    return a


def _inf(a):
    a = a.copy()
    a[5, 1] = np.inf
    return a


BAD = {
    "nan_x": (_nan(X), Y, "NaN or infinite"),
    "inf_x": (_inf(X), Y, "NaN or infinite"),
    "nan_y_regression": (X, np.where(np.arange(100) == 2, np.nan, 1.0), "NaN or infinite"),
    "short_y": (X, Y[:90], "100 rows but y has 90"),
    "long_y": (X[:90], Y, "90 rows but y has 100"),
    "string_x": (X.astype(str), Y, "must be numbers"),
    # found by the fuzz test (test_fuzz_inputs): scikit-learn or NumPy errors before
    "no_rows": (X[:0], Y[:0], "no rows or no columns"),
    "no_columns": (X[:, :0], Y, "no rows or no columns"),
    "negative_label": (X, np.where(np.arange(100) == 7, -1, Y), "must be >= 0"),
    "too_few_rows": (X[:3], Y[:3], "too few to split"),
    "lonely_class": (X[:10], np.array([0] * 9 + [1]), "cannot split it stratified"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_register_dataset_refuses_bad_arrays(case):
    x, y, needle = BAD[case]
    with pytest.raises(DataError, match=needle):
        cn.register_dataset(f"bad_{case}", x, y)
    with pytest.raises(DataError):  # and nothing was registered under the name
        cn.load_dataset(f"bad_{case}")


def test_register_dataset_still_takes_good_arrays():
    cn.register_dataset("good_arrays_23", X, Y)
    try:
        assert cn.load_dataset("good_arrays_23").x_train.shape[1] == 4
    finally:
        unregister_dataset("good_arrays_23")


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3", 2**40, None, np.float32(2)], ids=repr)
def test_train_refuses_bad_seeds(seed):
    cfg = cn.Config(dataset="digits", layers=1, units=8, epochs=1)
    with pytest.raises(ConfigError, match="seed"):
        cn.train(cfg, seed=seed)
    with pytest.raises(ConfigError, match="seed"):
        cn.train_population([cfg, cfg], [0, seed])
