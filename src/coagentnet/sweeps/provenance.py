"""Where a run's numbers came from: package versions, the source checkout's git commit, the
devices, and the sweep file that asked for it.

:func:`coagentnet.sweeps.backends.environment` records :func:`versions` with every run it
trains (the store's ``versions`` column); the sweep command notes the sweep file's SHA-256 in
the store's meta table (:func:`note_sweep_file`); the report shows both.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

#: Packages whose versions a run records (jaxlib and optax decide numerics as much as jax).
PACKAGES = ("jax", "jaxlib", "optax", "numpy")
#: Meta key of the sweep files that wrote into a store: sha256 -> path.
SWEEP_FILES_KEY = "sweep_files"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


@functools.cache  # fixed for the life of a process; asked once per population
def git_commit() -> str | None:
    """The commit of the checkout the package is imported from (``+dirty`` with uncommitted
    changes), or None when it is not run from a git checkout (an installed wheel)."""
    src = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(src), "status", "--porcelain", "--untracked-files=no", "."],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


def versions() -> dict[str, str]:
    """Versions of coagentnet, Python and :data:`PACKAGES`, the git commit (``"none"`` outside
    a checkout), and the JAX devices: ``device_kind`` and ``device_count``."""
    import jax

    import coagentnet

    devices = jax.devices()
    out = {"coagentnet": coagentnet.__version__, "python": platform.python_version()}
    out |= {name: _version(name) for name in PACKAGES}
    out["git"] = git_commit() or "none"
    out["device_kind"] = ", ".join(sorted({d.device_kind for d in devices}))
    out["device_count"] = str(len(devices))
    return out


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def note_sweep_file(store, path: str | Path) -> str:
    """Add the sweep file's SHA-256 (and path) to the store's meta; return the hash."""
    digest = file_sha256(path)
    known = json.loads(store.get_meta(SWEEP_FILES_KEY) or "{}")
    known[digest] = str(path)
    store.set_meta(SWEEP_FILES_KEY, json.dumps(known, sort_keys=True))
    return digest


def sweep_files(store) -> dict[str, str]:
    """sha256 -> path of every sweep file that wrote runs into ``store``."""
    return json.loads(store.get_meta(SWEEP_FILES_KEY) or "{}")
