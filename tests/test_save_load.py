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


def test_train_save_params_writes_networks_that_load_as_the_library_trains_them(tmp_path):
    from coagentnet.cli import main

    argv = ["train", "--dataset", "digits", "--rule", "reinforce", "--units", "4",
            "--batch-size", "128", "--epochs", "1", "--seeds", "1", "--first-seed", "2",
            "--lr", "0.01,0.02", "--save-params", str(tmp_path), "-q", "--json"]  # fmt: skip
    assert main(argv) == 0
    files = sorted(p.name for p in tmp_path.glob("*.npz"))
    assert files == ["lr=0.01-seed2.npz", "lr=0.02-seed2.npz"]
    loaded = cn.load(tmp_path / files[0])
    assert loaded.seed == 2 and loaded.config.lr == 0.01
    alone = cn.train(loaded.config, seed=2, keep_params=True)
    for a, b in zip(jax.tree.leaves(alone.params), jax.tree.leaves(loaded.params), strict=True):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
