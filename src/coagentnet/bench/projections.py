"""Wall time of reference workloads projected from measured throughputs."""

from __future__ import annotations

import math

from coagentnet.bench.cases import CASES, STREAM_UPDATES

#: MNIST protocol (SPEC 5): 50,000 training images, batch 32 (last partial batch dropped), and
#: train + validation + test (50k + 10k + 10k) evaluated after every epoch and once before.
MNIST_UPDATES_PER_EPOCH = 50_000 // 32
MNIST_EVAL_EXAMPLES = 70_000

#: Correlated study at paper scale (SPEC 5 and 7.5): STREAM_UPDATES per run,
#: 201 evaluations of validation + test (102,400 examples each), for 8 difficulties:
#: sweeps over 30 seeds (backprop: 8 step sizes; Gaussian REINFORCE: 8 step sizes x 7 unit_std;
#: discrete off-policy: 8 step sizes) and final curves of 200 seeds per method.
STREAM_EVAL_EXAMPLES = 201 * 2 * 102_400
CORRELATED_RUNS = {  # case, rule kind -> runs
    ("correlated-1x50", "backprop"): 8 * (8 * 30 + 200),
    ("correlated-1x50", "coagent"): 8 * (8 * 7 * 30 + 200),
    ("correlated-3x50", "coagent"): 8 * (8 * 30 + 200),
}


def _pick(rows: list[dict], case: str, kind: str, population: int | None = None) -> dict | None:
    """The measured row nearest ``population`` (log scale), or the fastest if None."""
    done = [r for r in rows if r["case"] == case and r["kind"] == kind and "us_per_update" in r]
    if not done:
        return None
    if population is None:
        return min(done, key=lambda r: r["us_per_update"])
    return min(done, key=lambda r: abs(math.log(r["population"] / population)))


def projections(rows: list[dict]) -> dict:
    """Wall time of two reference workloads projected from the measured throughputs.

    Projections assume the measured per-update and per-example costs hold for the whole run
    (training and evaluation; no data loading, store or plotting).
    """
    out = {}
    r = _pick(rows, "mnist-3x64", "coagent", 9)
    if r is not None:
        updates = 9 * 1000 * MNIST_UPDATES_PER_EPOCH
        evals = 9 * 1001 * MNIST_EVAL_EXAMPLES * r["eval_us_per_example"]
        train_s = updates * r["us_per_update"] / 1e6
        out["mnist_3x64_off_policy_9_seeds_1000_epochs"] = {
            "measured_population": r["population"],
            "network_updates": updates,
            "train_s": train_s,
            "eval_s": evals / 1e6,
            "total_s": train_s + evals / 1e6,
        }
    parts, missing, total = {}, [], 0.0
    for (case, kind), runs in CORRELATED_RUNS.items():
        r = _pick(rows, case, kind)
        label = f"{case}/{CASES[case].coagent['rule'] if kind == 'coagent' else 'backprop'}"
        if r is None:
            missing.append(label)
            continue
        train_s = runs * STREAM_UPDATES * r["us_per_update"] / 1e6
        eval_s = runs * STREAM_EVAL_EXAMPLES * r["eval_us_per_example"] / 1e6
        parts[label] = {
            "runs": runs,
            "measured_population": r["population"],
            "train_s": train_s,
            "eval_s": eval_s,
        }
        total += train_s + eval_s
    if parts:
        out["correlated_study_paper_scale"] = {
            "parts": parts,
            "total_s": total,
            "not_measured": missing,
        }
    return out
