"""How much memory a benchmark measurement used, and may use: the process's peak resident
memory, and the device's (or the machine's) available memory."""

from __future__ import annotations

import resource
import sys


def rss_mb() -> float:
    """This process's peak resident memory (MiB)."""
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def available_mb(device) -> float | None:
    """Memory this measurement may use: the device's limit on a GPU, MemAvailable on a CPU."""
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return (stats["bytes_limit"] - stats.get("bytes_in_use", 0)) / 2**20
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


__all__ = ["available_mb", "rss_mb"]
