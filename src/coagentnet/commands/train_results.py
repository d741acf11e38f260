"""``coagentnet train``'s output: the finished runs as a table, or as one JSON object.

Each configuration is labelled by the config fields that vary across the runs; its final
metrics are summarised as mean and standard error over its seeds.
"""

from __future__ import annotations

import json

from coagentnet.config import Config, run_label
from coagentnet.training.results import RunResult


def _summary(results: list[RunResult]) -> dict:
    from coagentnet.analysis.stats import mean_se  # pandas: only when needed

    keys = sorted({k for r in results for k in r.final})
    out = {}
    for key in keys:
        mean, se = mean_se([r.final.get(key, float("nan")) for r in results])
        out[key] = {"mean": mean, "se": se}
    return out


def print_results(args, results: dict, varying: list[str]) -> None:
    if not results:  # every run failed (train --store): the errors are already logged
        return
    if args.json:
        _print_json(results, varying)
    else:
        _print_table(results, varying)


def _print_json(results: dict[Config, list[RunResult]], varying: list[str]) -> None:
    out = {"runs": [], "summary": []}
    for cfg, runs in results.items():
        for r in runs:
            out["runs"].append(
                {
                    "config": cfg.to_dict(),
                    "seed": r.seed,
                    "diverged": r.diverged,
                    "updates": r.updates,
                    "final": r.final,
                }
            )
        out["summary"].append(
            {
                "label": run_label(cfg, varying),
                "config": cfg.to_dict(),
                "seeds": len(runs),
                "diverged": sum(r.diverged for r in runs),
                "final": _summary(runs),
            }
        )
    print(json.dumps(out, allow_nan=True))


def _print_table(results: dict[Config, list[RunResult]], varying: list[str]) -> None:
    classification = any("test/accuracy" in r.final for runs in results.values() for r in runs)
    metric = "test/accuracy" if classification else "test/loss"
    title = "test accuracy" if classification else "test MSE"
    eval_mode = next(iter(results)).eval_mode
    rows = []
    from coagentnet.analysis.stats import mean_se  # pandas: only when needed

    for cfg, runs in results.items():
        mean, se = mean_se([r.final.get(metric, float("nan")) for r in runs])
        se_text = "n/a" if se != se else f"{se:.4f}"
        rows.append(
            (
                run_label(cfg, varying),
                f"{mean:.4f} +/- {se_text}",
                str(len(runs)),
                str(sum(r.diverged for r in runs)),
            )
        )
    head = ("configuration", f"final {eval_mode} {title} (mean +/- SE)", "seeds", "diverged")
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    for row in (head, *rows):
        print("  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())


__all__ = ["print_results"]
