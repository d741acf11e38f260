"""From a results store to pandas frames, per-run scores, and the selection of settings.

The contract (as rliable's): a **runs** frame and a long **metrics** frame
(:mod:`coagentnet.analysis.store_frames`), from which everything else is computed, so a test
can build them by hand; curves, per-run scores and bands (:mod:`coagentnet.analysis.curves`);
and the protocol (as in Gupta et al. 2021) that selects each method's setting on validation
and reports test at it (:mod:`coagentnet.analysis.selection`). This module gathers their
public names.
"""

from __future__ import annotations

from coagentnet.analysis.curves import band, curve, run_scores
from coagentnet.analysis.selection import (
    BOOTSTRAP_SEED,
    Protocol,
    Selection,
    analyse,
    grid_edges,
    select,
    sensitivity,
    summarize,
)
from coagentnet.analysis.store_frames import (  # noqa: F401 (METRIC_COLUMNS, RUN_INFO re-exported)
    METRIC_COLUMNS,
    RUN_INFO,
    Frames,
    default_tune,
    load,
    varying,
)

__all__ = [
    "BOOTSTRAP_SEED",
    "grid_edges",
    "Frames",
    "Protocol",
    "Selection",
    "analyse",
    "band",
    "curve",
    "default_tune",
    "load",
    "run_scores",
    "select",
    "sensitivity",
    "summarize",
    "varying",
]
