"""The IDX data sets we know: their files, mirrors and published checksums, and the
fingerprints that tell one data set's files from another's.

Where the files are looked for and how they are downloaded is :mod:`coagentnet.data.sources`.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR_ENV = "COAGENTNET_DATA_DIR"

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
ALL_STEMS = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)


@dataclass(frozen=True)
class IdxSource:
    """One downloadable family of IDX files.

    ``checksums`` maps a compressed file name (``<stem>.gz``) to ``"<algorithm>:<hex digest>"``
    (any ``hashlib`` algorithm; the published ones are MD5). ``mirrors`` are base URLs tried in
    order.
    """

    name: str
    mirrors: tuple[str, ...]
    checksums: dict[str, str] = field(hash=False)
    system_dirs: tuple[str, ...] = ()
    how_to_get: str = ""


# Published checksums of the official .gz files (as listed by the data sets' authors and
# torchvision). Debian recompresses Fashion-MNIST, so local copies are not checked against them:
# the IDX header and payload checks in idx.py apply to every file instead.
IDX_SOURCES: dict[str, IdxSource] = {
    "mnist": IdxSource(
        name="mnist",
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        checksums={
            f"{TRAIN_IMAGES}.gz": "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
            f"{TRAIN_LABELS}.gz": "md5:d53e105ee54ea40749a09fcbcd1e9432",
            f"{TEST_IMAGES}.gz": "md5:9fb629c4189551a2d022fa330f9573f3",
            f"{TEST_LABELS}.gz": "md5:ec29112dd5afa0611ce80d1b7f02629c",
        },
        system_dirs=("/usr/share/datasets/mnist",),
        how_to_get="download it with internet access, or put the four IDX files in a folder and "
        f"pass --data-dir (or set {DATA_DIR_ENV})",
    ),
    "fashion-mnist": IdxSource(
        name="fashion-mnist",
        mirrors=(
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ),
        checksums={
            f"{TRAIN_IMAGES}.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            f"{TRAIN_LABELS}.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
            f"{TEST_IMAGES}.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
            f"{TEST_LABELS}.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
        },
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        how_to_get="run `apt-get install dataset-fashion-mnist`, download it with internet "
        "access, or put the four IDX files in a folder and pass --data-dir "
        f"(or set {DATA_DIR_ENV})",
    ),
}


#: Fingerprints of the IDX files we have seen: the first 16 bytes (hex) of the SHA-256 of the
#: file's first 64 KiB *uncompressed*, so a recompressed copy (Debian's) still matches.
#: MNIST and Fashion-MNIST share every file name and header, so without this a folder holding
#: one is silently read as the other (it happened: a data folder of Fashion-MNIST served a run
#: configured for the MNIST test digits). Only files available offline are listed; a file not
#: listed is accepted as it is.
KNOWN_FILES: dict[str, tuple[str, str]] = {
    "aad20425e9c2d9069b958b0b4d8278e6": ("mnist", TEST_IMAGES),
    "ff7bcfd416de33731a308c3f266cc351": ("mnist", TEST_LABELS),
    "ddf024bf27660e6f3ebd6fe689021b99": ("fashion-mnist", TEST_IMAGES),
    "0402a96d92fd2663957122ceb108a494": ("fashion-mnist", TEST_LABELS),
    "8d1850e596b060b18c94b28c4d1cac7e": ("fashion-mnist", TRAIN_IMAGES),
    "bad3541b69d912435c50bb6ba87bec29": ("fashion-mnist", TRAIN_LABELS),
}


def fingerprint(path: Path) -> str:
    """The :data:`KNOWN_FILES` key of an IDX file, ``.gz`` or raw."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return hashlib.sha256(f.read(65536)).hexdigest()[:32]


def foreign_file(source: IdxSource, found: dict[str, Path]) -> str | None:
    """Why ``found`` is another data set's files (one line), or None if nothing says so."""
    for path in found.values():
        try:
            owner = KNOWN_FILES.get(fingerprint(path))
        except (OSError, EOFError, gzip.BadGzipFile):
            continue  # unreadable: idx.py's checks report it with the file's name
        if owner is not None and owner[0] != source.name:
            return f"{path} is {owner[0]}'s {owner[1]}, not {source.name}'s"
    return None
