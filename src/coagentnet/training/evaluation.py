"""Evaluation of one network on every split in a single compiled pass.

The splits are cut into chunks of E examples (the last chunk of each split padded and masked)
and concatenated, so one ``lax.scan`` over chunks evaluates train, validation and test with one
compilation and memory bounded by E, whatever the data set's size. Per-example statistics from
``Rule.evaluate`` are summed per split and turned into metrics:

- ``loss`` (and ``accuracy`` for classification): means over the split's examples;
- per hidden layer ``[L]``: ``entropy`` (mean unit entropy, nats), ``entropy_spread`` (standard
  deviation over units of each unit's mean entropy) and ``on_fraction`` (mean greedy output:
  the fraction of units on for binary units, the mean value for K-ary and Gaussian units).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

#: Largest evaluation chunk: bounds evaluation memory per member. A population evaluates
#: P x MAX_CHUNK examples per scan step; at 256 rather than 1024 the intermediates of narrow
#: networks stay in cache: on a 2-core CPU the correlated stream's evaluation ran up to 2x
#: faster at P = 10-1000 and MNIST's 1.04-1.18x (docs/PERFORMANCE.md; ``coagentnet bench
#: --eval-chunk E`` compares).
MAX_CHUNK = 256


class EvalChunks(NamedTuple):
    """Every evaluation split, chunked: C chunks (all splits') of E examples each."""

    x: jax.Array
    """``[C, E, D]`` inputs (a split's last chunk padded with zeros)."""
    y: jax.Array
    """``[C, E, ...]`` targets."""
    mask: jax.Array
    """``[C, E]`` float32: 1 for a real example, 0 for padding."""
    split: jax.Array
    """``[C]`` int32: the chunk's split, an index into the splits' order."""


def eval_arrays(
    splits: dict[str, tuple[np.ndarray, np.ndarray]], max_chunk: int = MAX_CHUNK
) -> EvalChunks:
    """The splits chunked, padded and concatenated in their order."""
    size = min(max_chunk, max(len(x) for x, _ in splits.values()))
    xs, ys, masks, ids = [], [], [], []
    for index, (x, y) in enumerate(splits.values()):
        chunks = -(-len(x) // size)
        pad = chunks * size - len(x)
        xs.append(np.concatenate([x, np.zeros((pad,) + x.shape[1:], x.dtype)]))
        ys.append(np.concatenate([y, np.zeros((pad,) + y.shape[1:], y.dtype)]))
        masks.append(np.arange(chunks * size) < len(x))
        ids.append(np.full(chunks, index, np.int32))

    def chunked(parts):
        joined = np.concatenate(parts)
        return jnp.asarray(joined.reshape((-1, size) + joined.shape[1:]))

    return EvalChunks(
        x=chunked(xs),
        y=chunked(ys),
        mask=chunked(masks).astype(jnp.float32),
        split=jnp.asarray(np.concatenate(ids)),
    )


def _chunk_sums(stats: dict, mask: jax.Array) -> dict:
    sums = {"count": jnp.sum(mask), "loss": jnp.sum(stats["loss"] * mask)}
    if "correct" in stats:
        sums["correct"] = jnp.sum(stats["correct"] * mask)
    if stats.get("entropy"):
        per_layer = lambda xs: jnp.stack([jnp.sum(v * mask[:, None], axis=0) for v in xs])  # noqa: E731
        sums["entropy"] = per_layer(stats["entropy"])  # [L, U]
        sums["on"] = per_layer(stats["on"])  # [L, U]
    return sums


def evaluate(evaluate_fn, arrays: EvalChunks, num_splits: int, key: jax.Array) -> dict:
    """Metrics per split for one network: scalars become ``[S]``, per-layer ones ``[S, L]``.

    ``evaluate_fn(x, y, key) -> per-example stats`` is the rule's evaluate with the network's
    parameters bound.
    """
    shapes = jax.eval_shape(
        lambda: _chunk_sums(evaluate_fn(arrays.x[0], arrays.y[0], key), arrays.mask[0])
    )
    zeros = jax.tree.map(lambda s: jnp.zeros((num_splits,) + s.shape, s.dtype), shapes)

    def body(acc, inputs):
        i, x, y, mask, split = inputs
        sums = _chunk_sums(evaluate_fn(x, y, jax.random.fold_in(key, i)), mask)
        return jax.tree.map(lambda a, s: a.at[split].add(s), acc, sums), None

    chunks = jnp.arange(arrays.split.shape[0])
    sums, _ = jax.lax.scan(body, zeros, (chunks, arrays.x, arrays.y, arrays.mask, arrays.split))
    count = sums["count"]
    metrics = {"loss": sums["loss"] / count}
    if "correct" in sums:
        metrics["accuracy"] = sums["correct"] / count
    if "entropy" in sums:
        per_unit = sums["entropy"] / count[:, None, None]  # [S, L, U]
        metrics["entropy"] = jnp.mean(per_unit, axis=-1)
        metrics["entropy_spread"] = jnp.std(per_unit, axis=-1)
        metrics["on_fraction"] = jnp.mean(sums["on"], axis=-1) / count[:, None]
    return metrics
