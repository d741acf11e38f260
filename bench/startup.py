"""Start-up cost of the command line as whole processes: ``python -m bench.startup``.

Times (wall clock, each a fresh Python process; median of ``--repeats`` runs):

- ``import jax`` alone (the yardstick), ``coagentnet --help``, ``coagentnet train --help``;
- a one-seed ``coagentnet train --dataset digits --epochs 1 --seeds 1 --json``, cold (empty
  compile and split caches, run once) and warm (the same caches again), as a whole process, and
  the warm run over ``import jax`` (the two timed alternately, each the median of
  ``--repeats``);
- the phases of those very processes: the command marks its phase boundaries
  (``COAGENTNET_PHASES``, :mod:`coagentnet.commands.phases`) and the harness adds the time it
  started the process and the time it ended: imports (interpreter start, the CLI, JAX and the
  training modules), data load, compile or cache load (the loop's own ``compile_time_s``),
  training (the rest of the training wall time), writing the JSON result, and exit (the
  interpreter's shutdown).

Prints a Markdown table (``--json PATH`` also writes the numbers). Never a timed assertion:
this is a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = "import sys; from coagentnet.cli import main; sys.argv[0] = 'coagentnet'; sys.exit(main())"
TRAIN = ["train", "--dataset", "digits", "--epochs", "1", "--seeds", "1", "--json"]
#: The rows of the phase table, in the order a run goes through them.
PHASES = ("imports", "data load", "compile or cache load", "training", "writing", "exit")


def _time(argv: list[str], env: dict, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def phased_run(argv: list[str], env: dict, folder: Path) -> dict[str, float]:
    """One whole ``coagentnet train`` process: its wall time (``total``) and its phases."""
    marks = folder / "phases.jsonl"
    marks.unlink(missing_ok=True)
    env = {**env, "COAGENTNET_PHASES": str(marks)}
    start = time.time()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    end = time.time()
    at = {}
    compiled = 0.0
    for line in marks.read_text().splitlines():
        mark = json.loads(line)
        at[mark["phase"]] = mark["t"]
        compiled = mark.get("compile_s", compiled)
    trained = at["training"] - at["data load"]
    return {
        "imports": at["imports"] - start,
        "data load": at["data load"] - at["imports"],
        "compile or cache load": compiled,
        "training": trained - compiled,
        "writing": at["writing"] - at["training"],
        "exit": end - at["writing"],
        "total": end - start,
    }


def _median_run(runs: list[dict]) -> dict:
    """The run of median total (its phases sum to its total, as a per-phase median would not)."""
    return sorted(runs, key=lambda r: r["total"])[len(runs) // 2]


def measure(repeats: int, train: list[str] | None = None) -> dict:
    """Every number of the table; ``train``: the train command's arguments (default
    :data:`TRAIN`; a test passes a smaller network)."""
    env = dict(os.environ)
    python = sys.executable
    train_argv = [python, "-c", CLI, *(train or TRAIN)]
    out: dict = {"import jax": 0.0}  # first row of the table; measured below
    out["coagentnet --help"] = _time([python, "-c", CLI, "--help"], env, repeats)
    out["coagentnet train --help"] = _time([python, "-c", CLI, "train", "--help"], env, repeats)
    with tempfile.TemporaryDirectory() as cache:  # empty caches: cold, then warm
        env["COAGENTNET_COMPILE_CACHE"] = str(Path(cache) / "jax")
        env["COAGENTNET_SPLIT_CACHE"] = str(Path(cache) / "splits")
        cold = phased_run(train_argv, env, Path(cache))
        # The yardstick and the warm run alternate, so that a machine whose load changes
        # weighs on both alike (the ratio is what is read).
        jax_times, warm_runs = [], []
        for _ in range(repeats):
            jax_times.append(_time([python, "-c", "import jax"], env, 1))
            warm_runs.append(phased_run(train_argv, env, Path(cache)))
        warm = _median_run(warm_runs)
    out["import jax"] = statistics.median(jax_times)
    out["train digits 1 epoch, cold"] = cold["total"]
    out["train digits 1 epoch, warm"] = warm["total"]
    out["phases"] = {"cold": cold, "warm": warm}
    out["warm / import jax"] = warm["total"] / out["import jax"]
    return out


def table(out: dict) -> str:
    lines = ["| whole process | seconds |", "| --- | ---: |"]
    for key, value in out.items():
        if key not in ("phases", "warm / import jax"):
            lines.append(f"| {key} | {value:.2f} |")
    lines.append(f"| warm train / import jax | {out['warm / import jax']:.2f}x |")
    lines += ["", "| phase of one-seed train (whole process) | cold s | warm s |"]
    lines.append("| --- | ---: | ---: |")
    for phase in (*PHASES, "total"):
        cold, warm = out["phases"]["cold"][phase], out["phases"]["warm"][phase]
        lines.append(f"| {phase} | {cold:.2f} | {warm:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.startup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    out = measure(args.repeats)
    print(table(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
