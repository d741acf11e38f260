"""A trained network saved with ``cn.save`` loads back with ``cn.load`` bitwise: every array,
its containers, the config and the seed; the file is a plain ``.npz`` read without pickle."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import coagentnet as cn


def test_a_saved_network_loads_back_bitwise(tmp_path):
    cfg = cn.Config(dataset="digits", rule="actor_critic", layers=2, units=4, batch_size=128,
                    epochs=1)  # fmt: skip
    result = cn.train(cfg, seed=5, keep_params=True)
    path = cn.save(result, tmp_path / "net.npz")
    with np.load(path, allow_pickle=False) as data:  # no pickle needed to read it
        assert "hidden/0/w" in data.files
    loaded = cn.load(path)
    assert loaded.config == cfg and loaded.seed == 5
    saved_leaves, saved_tree = jax.tree.flatten(result.params)
    loaded_leaves, loaded_tree = jax.tree.flatten(loaded.params)
    assert loaded_tree == saved_tree
    for a, b in zip(saved_leaves, loaded_leaves, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()  # bitwise, NaN payloads and signed zeros included


def test_save_needs_the_parameters(tmp_path):
    cfg = cn.Config(dataset="digits", rule="backprop", units=4, epochs=1)
    with pytest.raises(ValueError, match="keep_params=True"):
        cn.save(cn.RunResult(cfg, 0, False), tmp_path / "net.npz")
