"""One ``coagentnet bench`` run: its plan, every measurement (each in a fresh worker process
unless inline), the machine it ran on, and the JSON-ready report."""

from __future__ import annotations

import functools
import os
import platform as host_platform
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from coagentnet.bench.cases import CASES, steps_for
from coagentnet.bench.measure import measure
from coagentnet.bench.projections import projections
from coagentnet.bench.worker import run_worker
from coagentnet.training.evaluation import MAX_CHUNK


@dataclass
class Plan:
    """What one ``coagentnet bench`` run measures."""

    cases: Sequence[str]
    populations: Sequence[int]
    device: str = "cpu"  # "cpu" or "gpu" (already resolved)
    steps: int | None = None  # None: each case's default for each P
    repeats: int = 3
    inline: bool = False  # measure in this process (no per-measurement peak memory)
    eval_chunk: int | None = None  # None: the engine's MAX_CHUNK
    member_tiles: Sequence[int | None] = (None,)  # None: the engine's (devices.member_tile)
    timeout_s: float = 3600.0
    extra: dict = field(default_factory=dict)

    def measurements(self) -> list[tuple[str, int, int]]:
        """(case, P, steps) in run order; each measures the coagent rule and backprop."""
        return [
            (name, p, steps_for(CASES[name], p, self.steps, self.device))
            for name in self.cases
            for p in self.populations
        ]


def run(
    plan: Plan,
    progress: Callable[[dict], None] | None = None,
    partial: Callable[[dict], None] | None = None,
) -> dict:
    """Run every measurement of ``plan``; returns the JSON-ready report.

    ``partial(report)`` gets the report of the rows measured so far after each measurement,
    so that a run cut short (a time limit on a lent GPU) keeps what it measured.
    """
    started = time.time()
    load_before = _loadavg()
    rows = []
    for name, p, steps in plan.measurements():
        spec = dict(
            case_name=name,
            population=p,
            steps=steps,
            repeats=plan.repeats,
            device=plan.device,
            eval_chunk=plan.eval_chunk,
            member_tiles=list(plan.member_tiles),
        )
        pair = measure(**spec) if plan.inline else run_worker(spec, plan.device, plan.timeout_s)
        rows.extend(pair)
        if progress is not None:
            for row in pair:
                progress(row)
        if partial is not None:
            partial(_report(plan, list(rows), started, load_before))
    return _report(plan, rows, started, load_before)


def _report(plan: Plan, rows: list[dict], started: float, load_before) -> dict:
    add_ratios(rows)
    return {
        "machine": machine_info(plan.device),
        "plan": {
            "cases": list(plan.cases),
            "populations": list(plan.populations),
            "device": plan.device,
            "steps": plan.steps,
            "repeats": plan.repeats,
            "inline": plan.inline,
            "eval_chunk": plan.eval_chunk or MAX_CHUNK,
            "member_tiles": list(plan.member_tiles),
            **plan.extra,
        },
        "load_average": {"before": load_before, "after": _loadavg()},
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "wall_s": time.time() - started,
        "note": "synthetic inputs of the real shapes: speed only, not accuracy",
        "cases": {n: {"description": CASES[n].description} for n in plan.cases},
        "results": rows,
        "projections": projections(rows),
    }


def add_ratios(rows: list[dict]) -> None:
    """``vs_backprop``: a row's time per update over backprop's, same case, P and member tile."""
    backprop = {
        (r["case"], r["population"], r.get("member_tile")): r["us_per_update"]
        for r in rows
        if r["kind"] == "backprop" and "us_per_update" in r
    }
    for r in rows:
        ref = backprop.get((r["case"], r["population"], r.get("member_tile")))
        if "us_per_update" in r and ref:
            r["vs_backprop"] = r["us_per_update"] / ref


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info(device: str) -> dict:
    import jax

    info = {
        "python": host_platform.python_version(),
        "jax": jax.__version__,
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "os": host_platform.platform(),
        "device": device,
    }
    if device == "gpu":
        info["accelerator"] = _nvidia_smi()
    return info


@functools.cache
def _nvidia_smi() -> str:
    """Name, memory and driver of the GPUs, asked of ``nvidia-smi`` (not of JAX, so that this
    process does not initialise, and preallocate, the GPU the workers measure on)."""
    query = ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"]
    try:
        out = subprocess.run(query, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown (nvidia-smi failed)"
    return "; ".join(line.strip() for line in out.splitlines() if line.strip()) or "unknown"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return host_platform.processor() or "unknown"
