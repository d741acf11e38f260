"""A finished run's parameters as a NumPy ``.npz`` file: saved atomically, loaded without pickle.

The arrays are named by their place in the network and stored beside the run's config, seed
and the layout of their containers, so :func:`load_params` rebuilds the same tree.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np


def save_params(path: str | Path, result) -> None:
    """Save a finished run's final parameters as NumPy ``.npz``, beside its config and seed.

    Arrays are named by their place in the network (``hidden/0/w``, ``readout/b``, ...); the
    entry ``config`` holds the run's config as JSON. Written atomically, like checkpoints.
    """
    import dataclasses

    import jax

    path = Path(path)
    arrays = {
        "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in keys): np.asarray(leaf)
        for keys, leaf in jax.tree_util.tree_flatten_with_path(result.params)[0]
    }
    meta = {"config": dataclasses.asdict(result.config), "seed": result.seed}
    meta["tree"] = _skeleton(result.params, "")  # the containers, for load_params
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, config=np.array(json.dumps(meta)), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _skeleton(tree, prefix: str):
    """``tree`` with each array replaced by its name in the ``.npz`` (tuples marked)."""
    if isinstance(tree, dict):
        return {k: _skeleton(v, f"{prefix}{k}/") for k, v in tree.items()}
    if isinstance(tree, tuple | list):
        items = [_skeleton(v, f"{prefix}{i}/") for i, v in enumerate(tree)]
        return {"__tuple__": items} if isinstance(tree, tuple) else items
    return prefix[:-1]


def _rebuild(skeleton, arrays):
    if isinstance(skeleton, str):
        return arrays[skeleton]
    if isinstance(skeleton, list):
        return [_rebuild(v, arrays) for v in skeleton]
    if set(skeleton) == {"__tuple__"}:
        return tuple(_rebuild(v, arrays) for v in skeleton["__tuple__"])
    return {k: _rebuild(v, arrays) for k, v in skeleton.items()}


def load_params(path: str | Path) -> tuple[dict, dict]:
    """``(meta, params)`` of a file written by :func:`save_params`: meta holds ``config`` (a
    dict) and ``seed``; params the arrays in their saved containers. Read without pickle."""
    with np.load(Path(path), allow_pickle=False) as data:
        meta = json.loads(str(data["config"]))
        arrays = {name: data[name] for name in data.files if name != "config"}
    if "tree" not in meta:
        raise ValueError(f"{path}: saved without its tree layout; save it again")
    return meta, _rebuild(meta["tree"], arrays)
