"""Start-up phase marks of a whole ``coagentnet`` process, for the benchmark harness.

With ``COAGENTNET_PHASES=PATH`` set, a command appends one JSON line per phase boundary to
PATH (``{"phase": name, "t": wall-clock seconds, ...}``); ``bench/startup.py`` turns them,
with the time it started the process and the time the process ended, into the phases of a
one-seed ``coagentnet train``: imports, data load, compile or cache load, training, writing
and exit. Unset (always, outside the harness) a mark costs one environment lookup.
"""

from __future__ import annotations

import json
import os
import time

ENV = "COAGENTNET_PHASES"


def mark(phase: str, **values: float) -> None:
    """Record that ``phase`` ended now (with extra numbers, e.g. the compile seconds)."""
    path = os.environ.get(ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"phase": phase, "t": time.time(), **values}) + "\n")


__all__ = ["ENV", "mark"]
