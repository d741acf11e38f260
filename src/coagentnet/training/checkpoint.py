"""Checkpoints: a population's whole training state on disk, so a killed run resumes mid-way.

A checkpoint is written at a chunk boundary (an evaluation): the population state (parameters,
optimiser and rule state, data-source state, divergence flags: every leaf, padding rows
included), the metric rows recorded so far, which members have stopped, and the number of
chunks done. Every PRNG key of a chunk is derived from the seeds and the chunk index, so a
population resumed from chunk c computes exactly what the uninterrupted run computed after
chunk c: its numbers are bitwise the same.

Writes are atomic (a temporary file in the same folder, fsync, rename), so a kill leaves the
previous checkpoint or the new one, never half of one. A checkpoint is trusted only when it
proves it was written by this store for this population (:mod:`.checkpoint_file`): its header
names the population's run ids and key (a hash of the code, every source file of the package,
the JAX/NumPy/Optax versions and the population's configs and seeds), the payload's length and
digest, and carries an HMAC under the store's random secret, so a file forged from public
inputs, or copied from another population or store, is refused. Anything that fails a check
(another version or config, a truncated, empty or forged file, a folder, FIFO or link in its
place, other shapes) is moved aside to ``<file>.corrupt`` with a one-line warning, and the
population starts from scratch: its numbers are those of an uninterrupted run either way.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from coagentnet.atomic import fsync_dir
from coagentnet.training import checkpoint_file
from coagentnet.training.checkpoint_file import FORMAT, Refused  # noqa: F401 (re-exported)
from coagentnet.training.params_file import load_params, save_params  # noqa: F401 (re-exported)

#: Default least wall time between two checkpoints of one population (seconds). A chunk that
#: takes longer is checkpointed at every boundary.
DEFAULT_INTERVAL_S = 120.0


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of this package's source and the numerical libraries' versions."""
    import jax
    import optax

    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    for version in (jax.__version__, np.__version__, optax.__version__):
        digest.update(version.encode())
    return digest.hexdigest()


def population_key(configs: Sequence, seeds: Sequence[int]) -> str:
    """What a checkpoint must have been written for: code, configs and seeds, in order."""
    text = json.dumps([code_fingerprint(), [repr(c) for c in configs], [int(s) for s in seeds]])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Snapshot:
    """What a population has done so far.

    ``state``: the population state as NumPy leaves (flattened in ``jax.tree`` order);
    ``rows[i]``/``final[i]``: member i's metric rows and final values; ``stopped[i]``: member
    i diverged and records nothing more; ``chunks``: chunks done.
    """

    chunks: int
    leaves: list[np.ndarray]
    rows: list[list]
    final: list[dict]
    stopped: list[bool]
    compile_time_s: float


@dataclass(frozen=True)
class CheckpointPolicy:
    """Where a sweep's populations checkpoint (``directory``, one file per population, named
    from its run ids) and how often (``interval_s``, see :class:`Checkpointer`). Picklable: it
    travels to process and Ray workers."""

    directory: str
    interval_s: float = DEFAULT_INTERVAL_S
    secret: str | None = None
    """The store's checkpoint secret (``Store.checkpoint_secret()``; the sweep driver fills
    it in): the key of every checkpoint's HMAC."""

    def for_population(self, run_ids: Sequence[str], configs, seeds) -> Checkpointer:
        return Checkpointer(
            self.directory,
            population_name(run_ids),
            population_key(configs, seeds),
            interval_s=self.interval_s,
            run_ids=run_ids,
            secret=self.secret or "",
        )


def population_name(run_ids: Sequence[str]) -> str:
    """The file name of a population's checkpoint: a hash of its run ids, in order."""
    return hashlib.sha256("\n".join(run_ids).encode()).hexdigest()[:24]


def checkpoint_dir(store_path: str | Path) -> Path:
    """Where a store's populations checkpoint: ``<store>.checkpoints`` beside it."""
    store_path = Path(store_path)
    return store_path.with_name(store_path.name + ".checkpoints")


def _warn(message: str) -> None:
    print(f"coagentnet: {message}", file=sys.stderr)


class Checkpointer:
    """The checkpoint file of one population: ``directory / f"{name}.npz"``.

    ``interval_s``: least wall time between two saves (0: every chunk boundary).
    ``warn``: where one-line warnings go (refused checkpoints, failed saves).
    ``run_ids``: the population's runs, in order; ``secret``: the store's checkpoint secret.
    A checkpoint is read back only if it names the same ``name``, ``run_ids`` and ``key`` and
    its HMAC under ``secret`` holds (:mod:`.checkpoint_file`).
    """

    def __init__(
        self,
        directory: str | Path,
        name: str,
        key: str,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        warn: Callable[[str], None] = _warn,
        run_ids: Sequence[str] = (),
        secret: str = "",
    ):
        self.path = Path(directory) / f"{name}.npz"
        self.key = key
        self.run_ids = [str(i) for i in run_ids]
        self.secret = secret
        self.interval_s = interval_s
        self.warn = warn
        self._last = time.monotonic()

    def phase(self, name: str) -> Checkpointer:
        """The checkpoint of a named phase of the same population (pretraining's first phase);
        :meth:`clear` deletes it too."""
        return Checkpointer(
            self.path.parent,
            f"{self.path.stem}.{name}",
            f"{self.key}.{name}",
            interval_s=self.interval_s,
            warn=self.warn,
            run_ids=self.run_ids,
            secret=self.secret,
        )

    def due(self) -> bool:
        """Whether a save at this chunk boundary is due (see ``interval_s``)."""
        return time.monotonic() - self._last >= self.interval_s

    def save(self, snapshot: Snapshot) -> None:
        """Write ``snapshot`` atomically; a failure to write only warns (training goes on)."""
        meta = {
            "chunks": snapshot.chunks,
            "rows": snapshot.rows,
            "final": snapshot.final,
            "stopped": [bool(s) for s in snapshot.stopped],
            "compile_time_s": snapshot.compile_time_s,
        }
        arrays = {f"leaf_{i}": np.asarray(x) for i, x in enumerate(snapshot.leaves)}
        try:
            data = checkpoint_file.encode(
                name=self.path.stem,
                run_ids=self.run_ids,
                key=self.key,
                secret=self.secret.encode(),
                meta=meta,
                arrays=arrays,
            )
            # Not parents=True: a store folder deleted mid-sweep is not silently made again.
            self.path.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            fsync_dir(self.path.parent)
        except OSError as err:
            self.warn(f"checkpoint {self.path}: not written ({err.strerror or err})")
        self._last = time.monotonic()

    def load(self, like: Sequence[np.ndarray]) -> Snapshot | None:
        """The saved snapshot, if there is one written for this population whose leaves have
        the shapes and dtypes of ``like``; otherwise None. Whatever else is at the path (see
        :mod:`.checkpoint_file`) is moved aside to ``<file>.corrupt`` with a one-line warning.
        """
        try:
            got = checkpoint_file.read(
                self.path,
                name=self.path.stem,
                run_ids=self.run_ids,
                key=self.key,
                secret=self.secret.encode(),
            )
            if got is None:
                return None
            return _snapshot(*got, like)
        except Refused as err:
            reason = str(err)
        except Exception as err:  # noqa: BLE001 (never fail a run over its checkpoint)
            reason = f"unreadable ({type(err).__name__})"
        moved = checkpoint_file.move_aside(self.path)
        where = f"moved to {moved.name}" if moved else "could not be moved aside"
        self.warn(f"checkpoint {self.path}: refused, {reason}; {where}; starting from scratch")
        return None

    def clear(self) -> None:
        """Delete the checkpoint and its phases' (its population is finished and stored);
        whatever cannot be deleted (a folder in its place) is left, and a later load moves it
        aside."""
        for path in [self.path, *self.path.parent.glob(f"{self.path.stem}.*.npz")]:
            try:
                path.unlink()
            except OSError:
                pass


def _snapshot(meta: dict, arrays: dict, like: Sequence[np.ndarray]) -> Snapshot:
    """The snapshot an authenticated checkpoint holds, checked against the population's state
    (``like``) and its own records; Refused if anything is off."""
    if set(arrays) != {f"leaf_{i}" for i in range(len(like))}:
        raise Refused("its arrays do not match this population's state")
    leaves = [arrays[f"leaf_{i}"] for i in range(len(like))]
    if any(
        a.shape != np.shape(b) or a.dtype != np.asarray(b).dtype
        for a, b in zip(leaves, like, strict=True)
    ):
        raise Refused("its arrays do not match this population's state")
    try:
        rows, final, stopped = meta["rows"], meta["final"], meta["stopped"]
        if not len(rows) == len(final) == len(stopped):
            raise ValueError
        return Snapshot(
            chunks=int(meta["chunks"]),
            leaves=leaves,
            rows=[[tuple(r) for r in member] for member in rows],
            final=final,
            stopped=stopped,
            compile_time_s=float(meta["compile_time_s"]),
        )
    except (KeyError, TypeError, ValueError):
        raise Refused("its records are inconsistent") from None


def check_writable(directory: str | Path) -> None:
    """Raise ``OSError`` naming ``directory`` unless checkpoints can be written there.

    Leaves the file system as it found it: folders it had to create for the probe are removed
    again (the checker runs before the store is validated, and a refused store must leave no
    trace); :meth:`Checkpointer.save` creates them when it first writes.
    """
    directory = Path(directory).absolute()
    missing = [d for d in [directory, *directory.parents] if not d.exists()]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".probe-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise OSError(f"{directory}: cannot write checkpoints ({err.strerror or err})") from None
    finally:
        for folder in missing:  # deepest first
            try:
                folder.rmdir()
            except OSError:
                pass
