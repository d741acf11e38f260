"""IDX parsing on real and corrupted files; locating, caching and verified downloads."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from coagentnet.data import DataError, read_idx, read_idx_pair, sources
from coagentnet.data.idx import IMAGES_MAGIC, LABELS_MAGIC
from marks import FASHION, SHARED_MNIST, needs_fashion, needs_mnist

SHARED = SHARED_MNIST or Path("missing")
T10K_IMAGES = SHARED / "t10k-images-idx3-ubyte.gz"
T10K_LABELS = SHARED / "t10k-labels-idx1-ubyte.gz"


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Serialise a uint8 array as IDX (the format, written independently of the reader)."""
    magic = (0x0800 | array.ndim) if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write(path: Path, data: bytes, compress: bool | None = None) -> Path:
    compress = path.suffix == ".gz" if compress is None else compress
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def small_pair(n_images=5, n_labels=5, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n_images, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=(n_labels,), dtype=np.uint8)
    return images, labels


# ---------------------------------------------------------------------------- real files


@needs_mnist
def test_shared_mnist_md5sums_match():
    lines = (SHARED / "MD5SUMS").read_text().split("\n")
    entries = [line.split() for line in lines if line.strip()]
    assert {name for _, name in entries} == {T10K_IMAGES.name, T10K_LABELS.name}
    for digest, name in entries:
        sources.verify_checksum(SHARED / name, f"md5:{digest}")
        # The same published checksums are what a download is verified against.
        assert sources.IDX_SOURCES["mnist"].checksums[name] == f"md5:{digest}"


@needs_mnist
def test_real_mnist_test_set():
    images, labels = read_idx_pair(T10K_IMAGES, T10K_LABELS)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    # Well-known facts about the official MNIST test set.
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    counts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(labels, minlength=10).tolist() == counts
    assert images.min() == 0 and images.max() == 255
    assert images.flags.writeable and images.dtype.isnative


@needs_mnist
def test_raw_and_gzip_give_the_same_array(tmp_path):
    raw = write(tmp_path / "t10k-labels-idx1-ubyte", gzip.decompress(T10K_LABELS.read_bytes()))
    np.testing.assert_array_equal(read_idx(raw), read_idx(T10K_LABELS))


@needs_fashion
def test_real_fashion_mnist_from_debian_package():
    train_x, train_y = read_idx_pair(
        FASHION / "train-images-idx3-ubyte.gz", FASHION / "train-labels-idx1-ubyte.gz"
    )
    test_x, test_y = read_idx_pair(
        FASHION / "t10k-images-idx3-ubyte.gz", FASHION / "t10k-labels-idx1-ubyte.gz"
    )
    assert train_x.shape == (60000, 28, 28) and test_x.shape == (10000, 28, 28)
    # Fashion-MNIST is balanced: 6000 and 1000 examples per class.
    assert np.bincount(train_y).tolist() == [6000] * 10
    assert np.bincount(test_y).tolist() == [1000] * 10


# ---------------------------------------------------------------------------- bad files


def test_synthetic_round_trip(tmp_path):
    images, labels = small_pair()
    got_x, got_y = read_idx_pair(
        write(tmp_path / "img.gz", idx_bytes(images)), write(tmp_path / "lab", idx_bytes(labels))
    )
    np.testing.assert_array_equal(got_x, images)
    np.testing.assert_array_equal(got_y, labels)


def test_other_idx_types_are_read_big_endian(tmp_path):
    values = np.array([[1, -2, 300], [70000, 5, -6]], dtype=">i4")
    data = (0x0C02).to_bytes(4, "big") + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    got = read_idx(write(tmp_path / "ints", data + values.tobytes()))
    np.testing.assert_array_equal(got, values.astype(np.int32))


def test_corrupt_magic(tmp_path):
    images, _ = small_pair()
    path = write(tmp_path / "bad-magic-idx3-ubyte.gz", idx_bytes(images, magic=0x12340803))
    with pytest.raises(DataError, match=r"bad-magic-idx3-ubyte\.gz.*magic number 0x12340803"):
        read_idx(path)


def test_wrong_kind_of_file(tmp_path):
    images, labels = small_pair()
    img = write(tmp_path / "images.gz", idx_bytes(images))
    lab = write(tmp_path / "labels.gz", idx_bytes(labels))
    with pytest.raises(DataError, match=r"labels\.gz.*0x00000801, expected 0x00000803"):
        read_idx_pair(lab, img)
    with pytest.raises(DataError, match="images.gz"):
        read_idx(img, magic=LABELS_MAGIC)
    assert read_idx(img, magic=IMAGES_MAGIC).shape == (5, 4, 3)


def test_truncated_payload(tmp_path):
    images, _ = small_pair()
    path = write(tmp_path / "short.gz", idx_bytes(images)[:-7])
    with pytest.raises(DataError, match=r"short\.gz: truncated: header says shape \(5, 4, 3\)"):
        read_idx(path)


def test_trailing_bytes(tmp_path):
    _, labels = small_pair()
    path = write(tmp_path / "long", idx_bytes(labels) + b"\x00\x01")
    with pytest.raises(DataError, match="long: trailing bytes"):
        read_idx(path)


def test_truncated_header_and_empty_file(tmp_path):
    with pytest.raises(DataError, match="empty.*too short"):
        read_idx(write(tmp_path / "empty", b""))
    with pytest.raises(DataError, match="hdr.*truncated header"):
        read_idx(write(tmp_path / "hdr", (0x0803).to_bytes(4, "big") + b"\x00\x00"))


def test_bad_gzip(tmp_path):
    images, _ = small_pair(n_images=50)
    blob = gzip.compress(idx_bytes(images))
    cut = tmp_path / "cut-idx3-ubyte.gz"
    cut.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=r"bad gzip file .*cut-idx3-ubyte\.gz"):
        read_idx(cut)
    flipped = bytearray(blob)
    flipped[-6] ^= 0xFF  # inside the CRC32 trailer
    bad_crc = tmp_path / "crc.gz"
    bad_crc.write_bytes(bytes(flipped))
    with pytest.raises(DataError, match=r"bad gzip file .*crc\.gz"):
        read_idx(bad_crc)
    not_gzip = write(tmp_path / "plain.gz", idx_bytes(images), compress=False)
    with pytest.raises(DataError, match=r"plain\.gz.*gzip magic"):
        read_idx(not_gzip)


def test_count_mismatch(tmp_path):
    images, labels = small_pair(n_images=5, n_labels=4)
    img = write(tmp_path / "five-images.gz", idx_bytes(images))
    lab = write(tmp_path / "four-labels.gz", idx_bytes(labels))
    with pytest.raises(DataError, match=r"five-images\.gz has 5 images .*four-labels\.gz has 4"):
        read_idx_pair(img, lab)


def test_label_out_of_range(tmp_path):
    images, _ = small_pair()
    labels = np.array([0, 1, 2, 3, 10], dtype=np.uint8)
    img = write(tmp_path / "img.gz", idx_bytes(images))
    lab = write(tmp_path / "lab.gz", idx_bytes(labels))
    with pytest.raises(DataError, match=r"lab\.gz: label 10"):
        read_idx_pair(img, lab)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="nothere.gz"):
        read_idx(tmp_path / "nothere.gz")


# ---------------------------------------------------------------------------- locating


STEMS = (sources.TEST_IMAGES, sources.TEST_LABELS)


def make_idx_dir(folder: Path, dotted: bool = False) -> dict[str, bytes]:
    """Write a tiny t10k pair into ``folder``; return the .gz bytes by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = small_pair()
    blobs = {
        f"{sources.TEST_IMAGES}.gz": gzip.compress(idx_bytes(images)),
        f"{sources.TEST_LABELS}.gz": gzip.compress(idx_bytes(labels)),
    }
    for name, blob in blobs.items():
        name = name.replace("-idx", ".idx") if dotted else name
        (folder / name).write_bytes(blob)
    return blobs


def fake_source(mirror_dir: Path, blobs: dict[str, bytes], algorithm="md5") -> sources.IdxSource:
    checksums = {
        n: f"{algorithm}:{hashlib.new(algorithm, b).hexdigest()}" for n, b in blobs.items()
    }
    return sources.IdxSource(
        name="fake",
        mirrors=(mirror_dir.as_uri() + "/",),
        checksums=checksums,
        system_dirs=(),
        how_to_get="make it",
    )


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No data dir from the environment, a private cache, downloads allowed."""
    monkeypatch.delenv(sources.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(sources.OFFLINE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def test_search_order_data_dir_then_env(isolated, monkeypatch):
    blobs = make_idx_dir(isolated / "explicit" / "fake")
    make_idx_dir(isolated / "env", dotted=True)
    source = fake_source(isolated / "nowhere", blobs)
    monkeypatch.setenv(sources.DATA_DIR_ENV, str(isolated / "env"))
    found = sources.find_files(source, STEMS, isolated / "explicit", download=False)
    assert found[sources.TEST_IMAGES] == isolated / "explicit" / "fake" / f"{STEMS[0]}.gz"
    found = sources.find_files(source, STEMS, None, download=False)
    assert found[sources.TEST_LABELS] == isolated / "env" / "t10k-labels.idx1-ubyte.gz"


def test_download_fills_cache_with_verified_files(isolated):
    blobs = make_idx_dir(isolated / "mirror")
    source = fake_source(isolated / "mirror", blobs, algorithm="sha256")
    found = sources.find_files(source, STEMS, None)
    cache = isolated / "cache" / "coagentnet" / "fake"
    assert found == {s: cache / f"{s}.gz" for s in STEMS}
    assert sorted(p.name for p in cache.iterdir()) == sorted(blobs)  # no .part left over
    assert read_idx(found[sources.TEST_IMAGES]).shape == (5, 4, 3)
    # A second call finds the cache and does not fetch.
    calls = []
    sources.find_files(source, STEMS, None, fetch=lambda url, dest: calls.append(url))
    assert calls == []


def test_download_checksum_mismatch_is_rejected(isolated):
    blobs = make_idx_dir(isolated / "mirror")
    source = fake_source(isolated / "mirror", blobs)
    bad = dict(source.checksums)
    bad[f"{sources.TEST_LABELS}.gz"] = "md5:" + "0" * 32
    source = dataclasses.replace(source, checksums=bad)
    pattern = r"not found; looked in .*checksum mismatch for t10k-labels-idx1-ubyte\.gz.*make it"
    with pytest.raises(DataError, match=pattern):
        sources.find_files(source, STEMS, None)
    cache = isolated / "cache" / "coagentnet" / "fake"
    assert not (cache / f"{sources.TEST_LABELS}.gz").exists()
    assert not list(cache.glob("*.part"))


def test_stale_cache_file_is_fetched_again(isolated):
    blobs = make_idx_dir(isolated / "mirror")
    source = fake_source(isolated / "mirror", blobs)
    cache = isolated / "cache" / "coagentnet" / "fake"
    cache.mkdir(parents=True)
    (cache / f"{sources.TEST_IMAGES}.gz").write_bytes(b"stale")
    files = sources.download_files(source, cache, STEMS)
    assert files[sources.TEST_IMAGES].read_bytes() == blobs[f"{sources.TEST_IMAGES}.gz"]


def test_download_tries_next_mirror(isolated):
    blobs = make_idx_dir(isolated / "mirror")
    source = fake_source(isolated / "mirror", blobs)
    source = dataclasses.replace(source, mirrors=("https://unreachable.invalid/",) + source.mirrors)
    tried = []

    def fetch(url, dest):
        tried.append(url)
        if url.startswith("https://unreachable"):
            raise OSError("no network")
        sources._urlretrieve(url, dest)

    sources.download_files(source, isolated / "dl", STEMS, fetch=fetch)
    assert len(tried) == 4 and tried[0].startswith("https://unreachable")


def test_missing_everywhere_offline_is_one_clear_line(isolated, monkeypatch):
    source = fake_source(isolated / "mirror", {f"{s}.gz": b"" for s in STEMS})
    monkeypatch.setenv(sources.OFFLINE_ENV, "1")
    # (an explicit data_dir never falls back: tests/test_hardening.py; the variable is searched)
    monkeypatch.setenv(sources.DATA_DIR_ENV, str(isolated / "mine"))
    with pytest.raises(DataError) as info:
        sources.find_files(source, STEMS, None)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(isolated / "mine") in msg and "download disabled" in msg and "make it" in msg
    assert not (isolated / "cache" / "coagentnet" / "fake").exists()


def test_real_sources_name_how_to_get_them():
    assert (
        "apt-get install dataset-fashion-mnist" in sources.IDX_SOURCES["fashion-mnist"].how_to_get
    )
    for src in sources.IDX_SOURCES.values():
        assert "--data-dir" in src.how_to_get
        assert sorted(src.checksums) == sorted(
            f"{s}.gz" for s in (sources.TRAIN_IMAGES, sources.TRAIN_LABELS, *STEMS)
        )
