"""Skip markers for data sets a machine may lack: the test says why it was skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FASHION = Path("/usr/share/datasets/fashion-mnist")


def shared_mnist() -> Path | None:
    """``shared/data/mnist`` beside the checkout (or beside the folder of worktrees), if there."""
    for base in (ROOT.parent, ROOT.parent.parent):
        folder = base / "shared" / "data" / "mnist"
        if (folder / "t10k-images-idx3-ubyte.gz").is_file():
            return folder
    return None


SHARED_MNIST = shared_mnist()
#: For tests that read the 10k MNIST test digits (mnist-test10k); skipped with the reason.
needs_mnist = pytest.mark.skipif(
    SHARED_MNIST is None,
    reason=f"MNIST test files (t10k-*-ubyte.gz) not in {ROOT.parent / 'shared' / 'data' / 'mnist'}",
)
#: For tests that need Debian's Fashion-MNIST package.
needs_fashion = pytest.mark.skipif(
    not (FASHION / "train-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST absent: apt-get install dataset-fashion-mnist",
)
