"""Claim 2 of the paper, decided per arm: "off_policy beats actor_critic and REINFORCE".

An *arm* is one setting of everything but the rule and the seed: data set, depth, width,
unit type and K, step size and budget (epochs; the budget is reported in updates). Per arm
and rule the score is each run's final greedy test accuracy (``final["test/accuracy"]``);
a diverged run (no finite final accuracy) is counted apart, never averaged in.

The verdict compares off_policy with each rival through the 95% Welch t interval of the
difference of means (seeds are independent networks; the rules need not have equal
variances):

- **confirmed**: both intervals (off_policy - actor_critic, off_policy - reinforce) lie
  above 0;
- **refuted**: some interval lies below 0 (a rival is better with confidence);
- **not decided**: anything else, including a rule missing or fewer than 2 finite seeds.

The functions take any source with the store's read interface (a
:class:`~coagentnet.sweeps.store.Store` or :class:`~coagentnet.sweeps.records.Records`), so
the committed records and the store they came from give the same rows.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy import stats as _scipy_stats

from coagentnet.analysis.stats import mean_se, t_interval

RULES = ("reinforce", "actor_critic", "off_policy")
#: The config fields that name an arm (the rule, its critic and the seed vary within one).
ARM_FIELDS = ("dataset", "layers", "units", "unit_type", "num_actions", "lr", "epochs")
SCORE = "test/accuracy"


def welch_interval(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    """(difference of means a - b, low, high): Welch's t interval over the finite values;
    NaNs when either side has fewer than 2 values."""
    xs = np.asarray([v for v in a if math.isfinite(v)], float)
    ys = np.asarray([v for v in b if math.isfinite(v)], float)
    if xs.size < 2 or ys.size < 2:
        return math.nan, math.nan, math.nan
    diff = float(xs.mean() - ys.mean())
    va, vb = xs.var(ddof=1) / xs.size, ys.var(ddof=1) / ys.size
    se = math.sqrt(va + vb)
    if se == 0.0:  # identical constant scores: the interval is the point
        return diff, diff, diff
    dof = (va + vb) ** 2 / (va**2 / (xs.size - 1) + vb**2 / (ys.size - 1))
    half = float(_scipy_stats.t.ppf(0.5 + confidence / 2.0, dof)) * se
    return diff, diff - half, diff + half


def verdict(differences: dict[str, tuple[float, float, float]]) -> str:
    """confirmed / refuted / not decided from the (diff, low, high) of off_policy minus each
    rival (see the module docstring)."""
    lows = [d[1] for d in differences.values()]
    highs = [d[2] for d in differences.values()]
    if any(h < 0 for h in highs if math.isfinite(h)):
        return "refuted"
    if len(lows) == len(RULES) - 1 and all(math.isfinite(x) and x > 0 for x in lows):
        return "confirmed"
    return "not decided"


def arms(source) -> dict[tuple, dict[str, list[dict]]]:
    """Arm key (values of :data:`ARM_FIELDS`) -> rule -> its complete runs, in a stable
    order (arms sorted by key, runs by seed)."""
    grouped: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for run in source.runs():
        if run["status"] not in ("done", "diverged") or run["config"].get("rule") not in RULES:
            continue
        cfg = run["config"]
        key = tuple(cfg.get(f) for f in ARM_FIELDS)
        grouped[key][cfg["rule"]].append(run)
    return {
        k: {r: sorted(v, key=lambda run: run["seed"]) for r, v in grouped[k].items()}
        for k in sorted(grouped, key=repr)
    }


def _score(run: dict) -> float:
    value = run["final"].get(SCORE)
    return math.nan if value is None or run["status"] == "diverged" else float(value)


def claim2_rows(source) -> list[dict]:
    """One row per arm: the arm's fields, ``budget`` (most updates of its runs), per rule
    ``<rule>`` = (mean, low, high, n, diverged), per rival ``off_policy-<rival>`` =
    (diff, low, high), and ``verdict``."""
    rows = []
    for key, by_rule in arms(source).items():
        row = dict(zip(ARM_FIELDS, key, strict=True))
        row["budget"] = max(int(r["updates"] or 0) for runs in by_rule.values() for r in runs)
        scores = {rule: [_score(r) for r in by_rule.get(rule, [])] for rule in RULES}
        for rule in RULES:
            values = scores[rule]
            finite = [v for v in values if math.isfinite(v)]
            mean, _ = mean_se(finite)
            low, high = t_interval(finite)
            row[rule] = (mean, low, high, len(finite), len(values) - len(finite))
        diffs = {
            rival: welch_interval(scores["off_policy"], scores[rival])
            for rival in ("actor_critic", "reinforce")
        }
        for rival, d in diffs.items():
            row[f"off_policy-{rival}"] = d
        row["verdict"] = verdict(diffs)
        rows.append(row)
    return rows


def _fmt(mean: float, low: float, high: float) -> str:
    if not math.isfinite(mean):
        return "-"
    if not math.isfinite(low):
        return f"{mean:.3f}"
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def markdown(rows: list[dict]) -> str:
    """The rows as the Markdown table of RESULTS.md's claim-2 section."""
    head = ["data set", "depth", "K", "lr", "updates", *RULES]
    head += ["off_policy - actor_critic", "off_policy - reinforce", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        k = str(row["num_actions"]) if row["unit_type"] != "bernoulli" else "2 (Bernoulli)"
        lr = row["lr"]
        lr_text = f"2^{math.log2(lr):g}" if lr > 0 and math.log2(lr).is_integer() else f"{lr:g}"
        cells = [str(row["dataset"]), f"{row['layers']}x{row['units']}", k, lr_text]
        cells.append(f"{row['budget']:,}")
        for rule in RULES:
            mean, low, high, n, div = row[rule]
            extra = f", {div} div." if div else ""
            cells.append(f"{_fmt(mean, low, high)}, n={n}{extra}")
        for rival in ("actor_critic", "reinforce"):
            diff, low, high = row[f"off_policy-{rival}"]
            cells.append(_fmt(diff, low, high).replace("-", "\u2212"))
        cells.append(f"**{row['verdict']}**")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def lr_selection(source) -> str:
    """The tuned arm's screen as Markdown: per rule (and the other arm fields that vary), the
    validation AUC (mean ± standard error over seeds, :func:`~coagentnet.analysis.frames.analyse`)
    at every lr tried, the selected lr in bold, flagged when it is at the grid's edge; "" when
    no rule was run at more than one lr."""
    from coagentnet.analysis.selection import Protocol, analyse
    from coagentnet.analysis.store_frames import load

    frames = load(source)
    runs = frames.runs[frames.runs["rule"].isin(RULES)]
    if runs.empty or runs.groupby("rule")["lr"].nunique().max() < 2:
        return ""
    frames = frames.subset(runs["run"])
    method = ["rule", *(f for f in ARM_FIELDS if f != "lr" and runs[f].nunique() > 1)]
    sel = analyse(frames, Protocol(metric="accuracy", maximize=True, tune=("lr",)), method)
    lrs = sorted(sel.grid["lr"].unique())
    head = ["rule", *method[1:], *(f"2^{math.log2(lr):g}" for lr in lrs), "selected"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for best in sel.table.to_dict("records"):
        mine = sel.grid[np.all([sel.grid[m] == best[m] for m in method], axis=0)]
        cells = [str(best[m]) for m in method]
        for lr in lrs:
            row = mine[mine["lr"] == lr]
            text = "-" if row.empty else f"{row['mean'].iloc[0]:.3f} ± {row['se'].iloc[0]:.3f}"
            cells.append(f"**{text}**" if lr == best["lr"] else text)
        edge = " (grid edge)" if best["at_grid_edge"] else ""
        cells.append(f"2^{math.log2(best['lr']):g}{edge}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def arm_name(key: tuple) -> str:
    """A file-name-safe name of an arm: ``fashion-mnist-3x64-bernoulli-K2-lr2pow-11-e641``."""
    cfg = dict(zip(ARM_FIELDS, key, strict=True))
    lr = cfg["lr"]
    # No '^' in file names: it is special to some shells and to Markdown links.
    lr_text = f"2pow{math.log2(lr):g}" if lr > 0 and math.log2(lr).is_integer() else f"{lr:g}"
    return (
        f"{cfg['dataset']}-{cfg['layers']}x{cfg['units']}-{cfg['unit_type']}"
        f"-K{cfg['num_actions']}-lr{lr_text}-e{cfg['epochs']}"
    )


__all__ = [
    "RULES",
    "ARM_FIELDS",
    "SCORE",
    "welch_interval",
    "verdict",
    "arms",
    "claim2_rows",
    "markdown",
    "lr_selection",
    "arm_name",
]
