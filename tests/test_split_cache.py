"""The split memo and the digits file read: same numbers as scikit-learn, without importing it
on a repeated run; a damaged memo file is ignored and written again."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from coagentnet.data import split_cache, splits
from coagentnet.data.builtin_loaders import _digits_table

Y = np.repeat(np.arange(4), [50, 30, 15, 5]).astype(np.int32)
SIZES = (60, 20, 20)


@pytest.fixture
def memo(tmp_path, monkeypatch):
    monkeypatch.setenv(split_cache.ENV, str(tmp_path))
    return tmp_path


def fresh(seed=11, stratify=Y):
    return splits._split_with_sklearn(len(Y), list(SIZES), seed, stratify)


def same(a, b):
    return len(a) == len(b) and all(
        np.array_equal(p, q) and p.dtype == q.dtype for p, q in zip(a, b, strict=True)
    )


def test_memo_returns_sklearns_split_and_writes_one_file(memo):
    first = splits.split_indices(len(Y), SIZES, 11, Y)
    assert same(first, fresh())
    assert len(list(memo.glob("*.npz"))) == 1
    assert same(splits.split_indices(len(Y), SIZES, 11, Y), fresh())


@pytest.mark.parametrize(
    "change",
    [dict(seed=12), dict(stratify=None), dict(stratify=Y[::-1].copy())],
    ids=["seed", "unstratified", "other-labels"],
)
def test_memo_key_holds_what_the_split_depends_on(memo, change):
    splits.split_indices(len(Y), SIZES, 11, Y)
    seed, stratify = change.get("seed", 11), change.get("stratify", Y)
    assert same(splits.split_indices(len(Y), SIZES, seed, stratify), fresh(seed, stratify))
    assert len(list(memo.glob("*.npz"))) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not a zip"),
        lambda path: path.write_bytes(path.read_bytes()[:40]),
        # A well-formed file that is not a partition of range(n): two parts swap sizes.
        lambda path: np.savez(
            path, part0=np.arange(20), part1=np.arange(20, 80), part2=np.arange(80, 100)
        ),
        lambda path: np.savez(
            path, part0=np.zeros(60, np.int64), part1=np.arange(60, 80), part2=np.arange(80, 100)
        ),
    ],
    ids=["not-npz", "truncated", "wrong-sizes", "not-a-partition"],
)
def test_damaged_memo_is_ignored_and_rewritten(memo, damage):
    splits.split_indices(len(Y), SIZES, 11, Y)
    (path,) = memo.glob("*.npz")
    damage(path)
    assert same(splits.split_indices(len(Y), SIZES, 11, Y), fresh())
    assert same(split_cache._read(path, len(Y), SIZES), fresh())


def test_memo_off_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(split_cache.ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert same(splits.split_indices(len(Y), SIZES, 11, Y), fresh())
    assert not list(tmp_path.rglob("*.npz"))


def test_unwritable_memo_folder_still_splits(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(split_cache.ENV, str(blocker / "splits"))
    assert same(splits.split_indices(len(Y), SIZES, 11, Y), fresh())


def test_digits_file_read_equals_load_digits_bitwise():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    table = _digits_table()
    assert table.dtype == bunch.data.dtype and np.array_equal(table[:, :-1], bunch.data)
    assert np.array_equal(table[:, -1].astype(bunch.target.dtype), bunch.target)


def test_repeated_digits_load_does_not_import_sklearn(memo):
    code = (
        "import sys; from coagentnet.data import load_dataset; load_dataset('digits'); "
        "print('sklearn' in sys.modules)"
    )
    env = {**os.environ, split_cache.ENV: str(memo)}

    def imports_sklearn() -> str:
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    assert imports_sklearn() == "True"  # the first load splits with scikit-learn, fills the memo
    assert imports_sklearn() == "False"
