"""Reader for the IDX format of MNIST and Fashion-MNIST (gzip-compressed or raw).

IDX layout (big-endian): two zero bytes, one type byte, one byte with the number of dimensions
n, then n uint32 sizes, then the payload in C order. MNIST uses type 0x08 (unsigned byte):
magic 0x00000801 for labels ``[N]`` and 0x00000803 for images ``[N, rows, cols]``.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = ["IMAGES_MAGIC", "LABELS_MAGIC", "read_idx", "read_idx_pair"]

LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803

# IDX type byte -> big-endian NumPy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    """The file's IDX bytes, decompressed when it is gzip (by name or by content)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read IDX file {path}: {exc.strerror or exc}") from None
    is_gzip = raw[:2] == _GZIP_MAGIC
    if path.suffix == ".gz" and not is_gzip:
        raise DataError(f"bad gzip file {path}: it does not start with the gzip magic bytes")
    if not is_gzip:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        # Truncated downloads end in EOFError; flipped bits give a CRC or zlib error.
        raise DataError(f"bad gzip file {path}: {exc}") from None


def read_idx(path: str | Path, *, magic: int | None = None) -> np.ndarray:
    """Read one IDX file into a native-endian array of the shape its header gives.

    Args:
      path: ``.gz`` or raw IDX file.
      magic: if given, the exact 32-bit magic number required (``LABELS_MAGIC`` gives a
        ``uint8 [N]`` array, ``IMAGES_MAGIC`` a ``uint8 [N, rows, cols]`` array).

    Raises:
      DataError: unreadable file, bad gzip, unknown or unexpected magic number, or a payload
        whose length does not match the sizes in the header. The message names the file.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(f"bad IDX file {path}: {len(data)} bytes, too short for a header")
    found = int.from_bytes(data[:4], "big")
    type_code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or type_code not in _IDX_DTYPES or ndim == 0:
        raise DataError(f"bad IDX file {path}: magic number 0x{found:08x} is not an IDX header")
    if magic is not None and found != magic:
        raise DataError(f"bad IDX file {path}: magic number 0x{found:08x}, expected 0x{magic:08x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"bad IDX file {path}: truncated header ({len(data)} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow on huge headers
    payload = len(data) - header
    if payload != expected:
        what = "truncated" if payload < expected else "trailing bytes"
        raise DataError(
            f"bad IDX file {path}: {what}: header says shape {shape} ({expected} bytes of "
            f"data), file has {payload}"
        )
    # astype copies into a writable, native-endian array.
    return (
        np.frombuffer(data, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def read_idx_pair(
    images_path: str | Path, labels_path: str | Path, *, num_classes: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Read an MNIST-style images/labels pair and check that they belong together.

    Returns:
      ``(images uint8 [N, rows, cols], labels uint8 [N])``.

    Raises:
      DataError: as ``read_idx``; also when the counts differ or a label is not in
        ``[0, num_classes)``.
    """
    images = read_idx(images_path, magic=IMAGES_MAGIC)
    labels = read_idx(labels_path, magic=LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"IDX files disagree: {images_path} has {images.shape[0]} images but "
            f"{labels_path} has {labels.shape[0]} labels"
        )
    if labels.size and int(labels.max()) >= num_classes:
        raise DataError(
            f"bad IDX file {labels_path}: label {int(labels.max())} is not in [0, {num_classes})"
        )
    return images, labels
