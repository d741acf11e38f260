"""The per-measurement worker: one :func:`~coagentnet.bench.measure.measure` in a fresh Python
process (``python -m coagentnet.bench.worker SPEC``), so that its peak RSS is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from coagentnet.bench.cases import CASES
from coagentnet.bench.measure import measure

#: Marks the worker's result line on its stdout (JAX may print warnings around it).
RESULT_TAG = "COAGENTNET-BENCH-RESULT "


def run_worker(spec: dict, device: str, timeout_s: float) -> list[dict]:
    """One :func:`measure` in a fresh Python process, so that its peak RSS is its own."""
    env = dict(os.environ)
    if device == "cpu":
        env["JAX_PLATFORMS"] = "cpu"  # never touch (or preallocate) a GPU for a CPU run
    cmd = [sys.executable, "-m", "coagentnet.bench.worker", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return _failed(spec, f"timed out after {timeout_s:.0f} s")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    lines = (proc.stderr or proc.stdout).strip().splitlines() or ["no output"]
    return _failed(spec, f"worker exit {proc.returncode}: {lines[-1]}")


def _failed(spec: dict, error: str) -> list[dict]:
    case = CASES[spec["case_name"]]
    return [
        {
            "case": case.name,
            "kind": kind,
            "rule": (case.coagent if kind == "coagent" else case.backprop)["rule"],
            "population": spec["population"],
            "steps": spec["steps"],
            "repeats": spec["repeats"],
            "device": spec["device"],
            "error": error,
        }
        for kind in ("coagent", "backprop")
    ]


def main(argv: list[str]) -> int:
    from coagentnet.training.devices import use_cpu_cores

    use_cpu_cores()  # as the command line does for train and sweep
    spec = json.loads(argv[0])
    rows = measure(**spec)
    print(RESULT_TAG + json.dumps(rows), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
