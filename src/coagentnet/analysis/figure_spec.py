"""What a figure shows: the :class:`Fig` specification and its kinds (``KINDS``).

A spec is declarative and draws nothing itself: :func:`coagentnet.analysis.figures.draw`
turns it into a matplotlib figure, so a study names its figures without the drawing code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("curves", "sensitivity", "layers", "selected")


@dataclass(frozen=True)
class Fig:
    """One figure of an experiment.

    kinds:
      ``curves``: mean +/- SE of ``split``/``metric`` over updates at each method's selected
        setting, one line per method (or per value of ``line``), a panel per ``facet`` value;
      ``sensitivity``: ``score`` (val_auc, test_auc, test_final) against ``x``;
      ``layers``: a per-layer metric (entropy, on_fraction; with ``grad_diagnostics`` runs and
        ``split="train"`` also grad_var, grad_snr, grad_cos; for critic rules and
        ``split="training"`` critic_ev_target, critic_ev_greedy, signal_corr_greedy) over
        updates, a panel per method;
      ``selected``: the selected value of tuned ``param`` against method column ``x``.
    """

    kind: str
    name: str
    title: str
    split: str = "test"
    metric: str | None = None
    x: str | None = None
    score: str = "val_auc"
    facet: str | None = None
    line: str | None = None
    param: str | None = None
    log2: bool = False
    log_y: bool = False
    only: dict = field(default_factory=dict)
    """Restrict to methods whose columns have these values (e.g. ``{"rule": "backprop"}``)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: unknown {self.kind!r}; allowed: {', '.join(KINDS)}")


__all__ = ["Fig", "KINDS"]
