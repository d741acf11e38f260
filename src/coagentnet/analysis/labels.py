"""Readable names of methods (``reinforce+ema L=2``) for tables, legends and reports."""

from __future__ import annotations

#: How a method column shows in a label: a format for its value ("{}" = the value alone).
_LABELS = {
    "rule": "{}",
    "baseline": "+{}",
    "layers": "L={}",
    "units": "U={}",
    "num_actions": "K={}",
    "explore_units": "k={}",
    "difficulty": "d={}",
    "critic_width": "critic {}",
    "unit_type": "{}",
    "partition": "partition {}",
    "pretrain_epochs": "pretrain {}",
    "stochastic_readout": "stochastic read-out",
    "dataset": "{}",
}
#: Values that mean "the option is off" and are left out of labels.
_OFF = {"baseline": "none", "pretrain_epochs": 0, "explore_units": 0, "partition": ""}


def method_label(values: dict) -> str:
    """A short readable name for a method: ``reinforce+ema L=2``; ``none`` baselines and
    empty strings are left out."""
    parts = []
    # Rule first, its baseline next, then the rest in _LABELS order, then unknown keys.
    rank = {k: i for i, k in enumerate(_LABELS)}
    ordered = sorted(values.items(), key=lambda kv: rank.get(kv[0], len(rank)))
    for key, value in ordered:
        if key in _OFF and value == _OFF[key] or value == "" or value is False:
            continue
        if isinstance(value, float) and value.is_integer() and key != "difficulty":
            value = int(value)
        fmt = _LABELS.get(key, key + "={}")
        text = fmt.format(value)
        if fmt.startswith("+") and parts:
            parts[-1] += text
        else:
            parts.append(text)
    return " ".join(parts) or "all runs"
