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
import os
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
    a checkout), the JAX devices (``device_kind`` and ``device_count``) and the CPU
    (:func:`cpu`: model, instruction sets, cache sizes, usable cores, ``XLA_FLAGS``)."""
    import jax

    import coagentnet

    devices = jax.devices()
    out = {"coagentnet": coagentnet.__version__, "python": platform.python_version()}
    out |= {name: _version(name) for name in PACKAGES}
    out["git"] = git_commit() or "none"
    out["device_kind"] = ", ".join(sorted({d.device_kind for d in devices}))
    out["device_count"] = str(len(devices))
    out |= cpu()
    return out


#: CPU features that decide which kernels XLA, Eigen and XNNPACK pick (a subset of the flags).
ISA_FLAGS = ("sse4_2", "avx", "fma", "avx2", "avx512f", "avx512_bf16", "avx512_fp16",
             "avx_vnni", "amx_tile", "neon", "asimd", "sve")  # fmt: skip


@functools.cache
def cpu() -> dict[str, str]:
    """The CPU a run trained on, which the bits of CPU results depend on (see
    docs/REPRODUCIBILITY.md): ``cpu_model`` (vendor, model name, family/model/stepping),
    ``cpu_isa`` (the :data:`ISA_FLAGS` it has), ``cpu_caches`` (per-core L1d/L1i/L2 and L3,
    from sysfs), ``cpu_count`` (logical CPUs this process may use) and ``xla_flags``."""
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
                if not line.strip() and info:
                    break  # the first processor is enough
    except OSError:
        pass
    model = info.get("model name") or platform.processor() or platform.machine()
    ids = "/".join(info.get(k, "?") for k in ("cpu family", "model", "stepping"))
    vendor = info.get("vendor_id", "")
    flags = set((info.get("flags") or info.get("Features") or "").split())
    caches = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level, kind, size = ((index / n).read_text().strip() for n in ("level", "type", "size"))
        except OSError:
            continue
        caches.append(f"L{level}{ {'Data': 'd', 'Instruction': 'i'}.get(kind, '') } {size}")
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 0
    return {
        "cpu_model": " ".join(p for p in (vendor, model, f"({ids})") if p),
        "cpu_isa": " ".join(f for f in ISA_FLAGS if f in flags) or "unknown",
        "cpu_caches": ", ".join(caches) or "unknown",
        "cpu_count": str(count),
        "xla_flags": os.environ.get("XLA_FLAGS", "") or "none",
    }


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
