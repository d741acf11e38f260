"""Where a population's training batches and evaluation splits come from.

A batch source is consumed inside the jitted training scan, one member at a time (vmapped):

- ``init(key) -> state``: the member's source state (a pytree);
- ``chunk_inputs(key, chunk) -> xs``: what the scan over the chunk's updates iterates over;
- ``batch(arrays, state, x_i, step) -> (state, x [B, D], y)``: update ``step``'s batch.

A chunk is the stretch of updates between two evaluations: an epoch of a finite data set, or
one of ``num_evals`` equal stretches of the correlated stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from coagentnet.config import Config, ConfigError
from coagentnet.data.stream import StreamSpec, stream_batch, stream_eval_sets, stream_init
from coagentnet.rules.base import Problem


@dataclass(frozen=True)
class EpochBatches:
    """Minibatches of a finite training set, reshuffled every epoch per member.

    The last partial batch of an epoch is dropped so that every update has B examples.
    """

    num_examples: int
    batch_size: int
    num_chunks: int  # epochs

    @property
    def steps_per_chunk(self) -> int:
        return self.num_examples // self.batch_size

    def epoch(self, chunk):
        return chunk

    def init(self, key: jax.Array) -> dict:
        return {}

    def chunk_inputs(self, key: jax.Array, chunk) -> jax.Array:
        """Batch indices of one epoch, ``[steps, B]``."""
        order = jax.random.permutation(jax.random.fold_in(key, chunk), self.num_examples)
        return order[: self.steps_per_chunk * self.batch_size].reshape(-1, self.batch_size)

    def batch(self, arrays: dict, state: dict, idx: jax.Array, step):
        return state, arrays["x"][idx], arrays["y"][idx]


@dataclass(frozen=True)
class StreamBatches:
    """The correlated online-regression stream, generated lazily per member (``data.stream``).

    One pass in order, no shuffling; the member's state is the walking mean, so memory does
    not depend on the stream's length. All updates form one epoch.
    """

    spec: StreamSpec
    num_chunks: int  # evaluations after the first

    @property
    def steps_per_chunk(self) -> int:
        return self.spec.num_updates // self.num_chunks

    def epoch(self, chunk):
        return 0

    def init(self, key: jax.Array):
        return stream_init(key, self.spec)

    def chunk_inputs(self, key: jax.Array, chunk) -> jax.Array:
        return jnp.zeros(self.steps_per_chunk)  # the step index alone drives the stream

    def batch(self, arrays: dict, state, unused, step):
        return stream_batch(state, step, self.spec)


@dataclass(frozen=True, eq=False)
class TrainingData:
    """Everything a Trainer needs to know about the data of a static config."""

    problem: Problem
    source: EpochBatches | StreamBatches
    train_arrays: dict  # passed to the batch source: {"x": [N, D], "y": [N, ...]} or {}
    eval_splits: dict  # split name -> (x, y) NumPy arrays


#: The correlated stream's task: one input, one regression target.
STREAM_PROBLEM = Problem(1, 1, "regression")


def training_data(cfg: Config, data=None) -> TrainingData:
    """The batches and evaluation splits of ``cfg`` (``data``: an already loaded Dataset)."""
    if cfg.is_stream:
        spec = StreamSpec(cfg.difficulty, cfg.num_means, cfg.batches_per_mean, cfg.batch_size)
        # Evaluation sets depend on the split seed only: every member sees the same ones.
        x_val, y_val, x_test, y_test = stream_eval_sets(jax.random.PRNGKey(cfg.split_seed), spec)
        splits = {"validation": (x_val, y_val), "test": (x_test, y_test)}
        splits = {k: tuple(np.asarray(a) for a in v) for k, v in splits.items()}
        return TrainingData(STREAM_PROBLEM, StreamBatches(spec, cfg.num_evals), {}, splits)
    source = EpochBatches(data.x_train.shape[0], cfg.batch_size, cfg.epochs)
    if source.steps_per_chunk == 0:
        raise ConfigError(
            f"batch_size: {cfg.batch_size} exceeds the training set "
            f"({data.x_train.shape[0]} examples)"
        )
    return TrainingData(
        Problem(data.in_dim, data.out_dim, data.task),
        source,
        {"x": jnp.asarray(data.x_train), "y": jnp.asarray(data.y_train)},
        {
            "train": (data.x_train, data.y_train),
            "validation": (data.x_val, data.y_val),
            "test": (data.x_test, data.y_test),
        },
    )
