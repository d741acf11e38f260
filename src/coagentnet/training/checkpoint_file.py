"""The on-disk format of a checkpoint, and reading one back without trusting it.

A checkpoint file is::

    MAGIC (16 bytes) | header length (4 bytes, big-endian, at most MAX_HEADER) | header | payload

The header is JSON: the format version, the file's ``name`` (its population and phase), the
population's ``run_ids`` (as in the store), its ``key`` (a hash of code, configs and seeds),
the payload's length and SHA-256, and an HMAC-SHA256 of all of these under the store's random
secret (``meta.checkpoint_secret``). The payload is a NumPy ``.npz`` (no pickles).

Reading checks, in order and before any payload byte is parsed: a regular file (never a link,
folder, FIFO or device; opened with ``O_NONBLOCK | O_NOFOLLOW`` so nothing blocks), the magic,
a bounded header, the format, name, run ids and key, a payload length equal to what the file
holds, the HMAC (so a file made from public inputs only, or written for another store, is
refused), the digest. Only then is the payload opened, and its arrays are checked against the
population's state. Any failure is a :class:`Refused` with a short reason.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import stat
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FORMAT = 2
MAGIC = b"COAGENTNET-CKPT\n"
#: The largest header accepted (run ids of a large population fit many times over).
MAX_HEADER = 8 * 2**20
_LENGTH = struct.Struct(">I")


class Refused(Exception):
    """A checkpoint file that failed a check; the message says which, in a few words."""


def _mac(secret: bytes, fields: dict) -> str:
    text = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(secret, MAGIC + text, hashlib.sha256).hexdigest()


def encode(
    *, name: str, run_ids: Sequence[str], key: str, secret: bytes, meta: dict, arrays: dict
) -> bytes:
    """The bytes of a checkpoint file: header (see the module docstring) and payload."""
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    payload = buf.getvalue()
    fields = {
        "format": FORMAT,
        "name": name,
        "run_ids": list(run_ids),
        "key": key,
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    header = json.dumps({**fields, "hmac": _mac(secret, fields)}).encode()
    return MAGIC + _LENGTH.pack(len(header)) + header + payload


def read(
    path: Path, *, name: str, run_ids: Sequence[str], key: str, secret: bytes
) -> tuple[dict, dict[str, np.ndarray]] | None:
    """(meta, arrays) of the checkpoint at ``path``; None if there is no file there at all.

    Raises :class:`Refused` for anything else than a checkpoint this store wrote for this
    population (see the module docstring); never blocks and never reads past the file's
    size as first seen.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise Refused(f"cannot inspect it ({err.strerror or err})") from None
    if not stat.S_ISREG(st.st_mode):
        raise Refused(f"not a regular file ({_kind(st.st_mode)})")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as err:
        raise Refused(f"cannot open it ({err.strerror or err})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):  # swapped between the two looks
            raise Refused(f"not a regular file ({_kind(st.st_mode)})")
        size = st.st_size
        head = f.read(len(MAGIC) + _LENGTH.size)
        if len(head) < len(MAGIC) + _LENGTH.size or head[: len(MAGIC)] != MAGIC:
            raise Refused("not a coagentnet checkpoint (no header)")
        (length,) = _LENGTH.unpack(head[len(MAGIC) :])
        start = len(head) + length
        if length > MAX_HEADER or start > size:
            raise Refused(f"header of {length} bytes is too long for the file")
        header = _header(f.read(length))
        fields = {k: v for k, v in header.items() if k != "hmac"}
        if fields.get("format") != FORMAT:
            raise Refused(f"checkpoint format {fields.get('format')!r}, expected {FORMAT}")
        if fields.get("name") != name or fields.get("run_ids") != list(run_ids):
            raise Refused("written for another population")
        if fields.get("key") != key:
            raise Refused("written by another code version or for other configs or seeds")
        if fields.get("payload_bytes") != size - start:
            raise Refused("truncated or extended (payload length differs)")
        mac = header.get("hmac")
        if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(secret, fields)):
            raise Refused("not written by this store (HMAC differs)")
        payload = f.read(size - start)
    if hashlib.sha256(payload).hexdigest() != fields.get("payload_sha256"):
        raise Refused("damaged (payload digest differs)")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in data.files if k != "meta"}
    except Exception as err:  # noqa: BLE001 (an authenticated file we cannot parse)
        raise Refused(f"unreadable payload ({type(err).__name__})") from None
    if not isinstance(meta, dict):
        raise Refused("unreadable payload (meta)")
    return meta, arrays


def _header(raw: bytes) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Refused("unreadable header") from None
    if not isinstance(header, dict):
        raise Refused("unreadable header")
    return header


def _kind(mode: int) -> str:
    for test, word in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    ):
        if test(mode):
            return word
    return "special"


def move_aside(path: Path) -> Path | None:
    """Rename ``path`` (whatever it is) to ``<path>.corrupt`` (or ``.corrupt.N`` if taken);
    return the new path, or None if it could not be moved."""
    for i in range(100):
        target = path.with_name(path.name + (".corrupt" if i == 0 else f".corrupt.{i}"))
        if os.path.lexists(target):
            continue
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return None
        except OSError:
            continue
        return target
    return None


__all__ = ["FORMAT", "MAGIC", "MAX_HEADER", "Refused", "encode", "read", "move_aside"]
