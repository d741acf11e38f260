"""An experiment's results as two pandas frames, loaded from a results store.

The contract (as rliable's): a **runs** frame with one row per complete run (``run`` id,
``seed``, ``diverged`` and every config field as a column) and a **metrics** frame in long
format (``run, step, split, metric, layer, value``). Everything else is computed from these
two, so a test can build them by hand.

:func:`varying` and :func:`default_tune` say which config columns differ between the runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coagentnet.config import POPULATION_SCALARS

METRIC_COLUMNS = ("run", "step", "split", "metric", "layer", "value")
#: Columns of the runs frame that are not config fields.
RUN_INFO = ("run", "seed", "status", "diverged", "wall_time_s", "updates", "device", "versions")


@dataclass
class Frames:
    """The runs frame and the long metrics frame of one experiment."""

    runs: pd.DataFrame
    metrics: pd.DataFrame

    @property
    def config_columns(self) -> list[str]:
        return [c for c in self.runs.columns if c not in RUN_INFO]

    def subset(self, run_ids) -> Frames:
        ids = set(run_ids)
        return Frames(
            self.runs[self.runs["run"].isin(ids)].reset_index(drop=True),
            self.metrics[self.metrics["run"].isin(ids)].reset_index(drop=True),
        )


def load(store, ids: Sequence[str] | None = None) -> Frames:
    """Frames of the complete (done or diverged) runs of a store (a Store or a path)."""
    from coagentnet.sweeps.store import COMPLETE, Store

    own = not hasattr(store, "runs")
    if own:
        store = Store(Path(store), readonly=True)
    try:
        rows, metric_parts = [], []
        for rec in store.runs(ids):
            if rec["status"] not in COMPLETE:
                continue  # pending or failed runs have no metrics; the report counts them
            rows.append(
                {
                    "run": rec["id"],
                    "seed": rec["seed"],
                    "status": rec["status"],
                    "diverged": rec["status"] == "diverged",
                    "wall_time_s": rec["wall_time_s"],
                    "updates": rec["updates"],
                    "device": rec["device"],
                    "versions": rec["versions"],
                    **rec["config"],
                }
            )
            m = store.metrics(rec["id"])
            if m:
                part = pd.DataFrame(m, columns=METRIC_COLUMNS[1:])
                part.insert(0, "run", rec["id"])
                metric_parts.append(part)
    finally:
        if own:
            store.close()
    runs = pd.DataFrame(rows, columns=None if rows else list(RUN_INFO))
    metrics = (
        pd.concat(metric_parts, ignore_index=True)
        if metric_parts
        else pd.DataFrame(columns=list(METRIC_COLUMNS))
    )
    return Frames(runs, metrics)


def varying(runs: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    """Config columns that take more than one value among the runs (in column order)."""
    out = []
    for col in runs.columns:
        if col in RUN_INFO or col in exclude:
            continue
        if runs[col].astype(str).nunique() > 1:
            out.append(col)
    return out


def default_tune(runs: pd.DataFrame) -> list[str]:
    """Hyperparameters selected per method by default: the population scalars that vary."""
    return [c for c in varying(runs) if c in POPULATION_SCALARS]
