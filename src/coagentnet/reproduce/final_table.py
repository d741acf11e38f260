"""One experiment's final numbers as a table of numbers, one row per method (formatting is the
renderer's job, so that summary.json and the CSV tables can be computed with)."""

from __future__ import annotations

import math

import pandas as pd

from coagentnet.analysis import frames as analysis
from coagentnet.analysis.frames import Protocol


def final_table(sel: analysis.Selection, protocol: Protocol) -> pd.DataFrame:
    """The final numbers of one experiment, one row per method, as numbers (formatting is the
    renderer's job, so that summary.json and the CSV tables can be computed with).

    Columns: ``method``, each tuned key (its selected value; ``log2 lr`` beside ``lr``),
    ``at_grid_edge`` (tuned keys selected at an end of their grid), validation and test AUC
    means and standard errors, the final test ``mean``/``se``/``ci_low``/``ci_high`` with the
    interval's kind ``ci`` (``t``: Student's t, fewer than 10 seeds; ``bootstrap``), ``n``
    seeds and the diverged counts at the selected setting and over all settings.
    """
    rows = []
    name = "accuracy" if protocol.metric == "accuracy" else "MSE"
    for r in sel.table.to_dict("records"):
        row = {"method": r["label"]}
        for t in sel.tune:
            row[t] = float(r[t])
            if t == "lr":
                row["log2 lr"] = math.log2(float(r[t]))
        row["at_grid_edge"] = r["at_grid_edge"]
        row[f"val AUC {name} mean"] = r["val_auc"]
        row[f"val AUC {name} se"] = r["val_auc_se"]
        row[f"test AUC {name} mean"] = r["test_auc"]
        row[f"test AUC {name} se"] = r["test_auc_se"]
        row[f"final test {name} mean"] = r["test_final"]
        row[f"final test {name} se"] = r["test_final_se"]
        row["ci_low"], row["ci_high"], row["ci"] = clipped_interval(r, name)
        row["n"] = int(r["n"])
        row["diverged"] = int(r["diverged"])
        row["diverged_all_settings"] = int(r["diverged_any"])
        rows.append(row)
    return pd.DataFrame(rows)


def clipped_interval(r: dict, name: str) -> tuple[float, float, str]:
    """The final test interval; an accuracy's is clipped to [0, 1] (a t interval at n = 3 can
    reach below 0), and its kind then says so."""
    low, high, kind = r["test_final_ci_low"], r["test_final_ci_high"], r["ci"]
    if name == "accuracy" and (low < 0 or high > 1):
        low, high, kind = max(low, 0.0), min(high, 1.0), f"{kind}, clipped to [0, 1]"
    return low, high, kind


__all__ = ["clipped_interval", "final_table"]
