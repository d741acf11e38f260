"""The human-readable table of a benchmark report."""

from __future__ import annotations

import math


def _fmt(value, spec: str, empty: str = "-") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return empty
    return format(value, spec)


def table(report: dict) -> str:
    """The human-readable summary of a report: one line per measurement, then projections."""
    head = (
        "case", "rule", "P", "steps", "us/update", "updates/s", "vs backprop",
        "compile s", "eval us/ex", "program MB", "peak MB",
    )  # fmt: skip
    lines = []
    for r in report["results"]:
        if "error" in r or "skipped" in r:
            what = r.get("error") or f"skipped: {r['skipped']}"
            lines.append((r["case"], r["rule"], str(r["population"]), str(r["steps"]), what))
            continue
        # Peak of the process (shared by the pair of rules), or of the GPU's allocator.
        peak = r.get("peak_device_mb") or (None if report["plan"]["inline"] else r["peak_rss_mb"])
        lines.append(
            (
                r["case"],
                r["rule"],
                str(r["population"]),
                str(r["steps"]),
                _fmt(r["us_per_update"], ".2f"),
                _fmt(r["updates_per_s"], ",.0f"),
                _fmt(r.get("vs_backprop"), ".2f") if r["kind"] != "backprop" else "1",
                _fmt(r["compile_s"], ".1f"),
                _fmt(r["eval_us_per_example"], ".3f"),
                _fmt(r.get("program_mb"), ",.0f"),
                _fmt(peak, ",.0f"),
            )
        )
    full = [row for row in lines if len(row) == len(head)]
    widths = [max(len(row[i]) for row in (head, *full)) for i in range(len(head))]
    out = []
    for row in (head, *lines):
        if len(row) == len(head):
            cells = [
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
        else:
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]),
                     row[3].rjust(widths[3]), row[4]]  # fmt: skip
        out.append("  ".join(cells).rstrip())
    m = report["machine"]
    load = report["load_average"]
    out.insert(
        0,
        f"device {report['plan']['device']} ({m['cpu']}, {m['cpu_count']} CPUs), jax {m['jax']}; "
        f"load average {load['before']} -> {load['after']}; {report['note']}",
    )
    for name, p in report["projections"].items():
        if "total_s" in p and "parts" not in p:
            out.append(
                f"projection {name}: {_hours(p['total_s'])} "
                f"(train {_hours(p['train_s'])}, eval {_hours(p['eval_s'])}; "
                f"rate measured at P = {p['measured_population']})"
            )
        elif "parts" in p:
            miss = f"; not measured: {', '.join(p['not_measured'])}" if p["not_measured"] else ""
            out.append(f"projection {name}: {_hours(p['total_s'])}{miss}")
    return "\n".join(out)


def _hours(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
