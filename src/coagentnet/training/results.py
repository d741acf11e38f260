"""What a finished run hands to the store, the CLI and the analysis: one array contract.

Metrics are kept in long format, one row per (step, split, metric, layer), so that the SQLite
store, CSV export and pandas analysis all read the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coagentnet.config import Config

#: One metric row: (update step, split, metric name, layer index or None, value).
#: split is one of "train", "validation", "test" (evaluation) or "training" (averages of the
#: training updates since the previous evaluation); step is the number of updates done.
MetricRow = tuple[int, str, str, "int | None", float]


@dataclass
class RunResult:
    """The outcome of one (config, seed) run.

    ``final`` maps ``"<split>/<metric>"`` (and ``"<split>/<metric>/<layer>"`` for per-layer
    metrics) to the value at the last evaluation. ``params``: the network's final parameters
    as NumPy arrays (``{"hidden": (layer, ...), "readout": layer}``, ``layer = {"w", "b"}``),
    kept only when asked for (``train_population(..., keep_params=True)``).
    """

    config: Config
    seed: int
    diverged: bool
    metrics: list[MetricRow] = field(default_factory=list)
    final: dict[str, float] = field(default_factory=dict)
    updates: int = 0
    wall_time_s: float = 0.0
    compile_time_s: float = 0.0
    params: dict | None = None

    def to_frame(self):
        """The metrics as a pandas DataFrame in long format: columns ``step, split, metric,
        layer, value`` (``layer`` is ``<NA>`` for whole-network metrics) plus ``seed``."""
        frame = metric_rows_frame(self.metrics)
        frame.insert(0, "seed", self.seed)
        return frame


METRIC_COLUMNS = ("step", "split", "metric", "layer", "value")


def metric_rows_frame(rows: list[MetricRow]):
    """Metric rows ``(step, split, metric, layer, value)`` as a pandas DataFrame."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(METRIC_COLUMNS))
    frame["layer"] = frame["layer"].astype("Int64")  # None for whole-network metrics
    frame["step"] = frame["step"].astype("int64")
    frame["value"] = frame["value"].astype("float64")
    return frame
