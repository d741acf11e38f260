"""Start-up cost of the command line as whole processes: ``python -m bench.startup``.

Times (median of ``--repeats`` runs, wall clock, each a fresh Python process):

- ``import jax`` alone (the yardstick), ``coagentnet --help``, ``coagentnet train --help``;
- a one-seed ``coagentnet train --dataset digits --epochs 1 --seeds 1 --json``, cold (an empty
  compile cache) and warm (the same cache again), as a whole process;
- the phases of that run, measured inside one process the way the command runs them: imports
  (the CLI, JAX and the training modules), data load, compile or cache load (the loop's own
  ``compile_time_s``), training (the rest of its wall time) and writing the JSON result.

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

PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
import jax  # noqa: F401
from coagentnet.commands import train  # noqa: F401
from coagentnet.config import Config
from coagentnet.training import run
from coagentnet.training.data_cache import config_data
from coagentnet.training.devices import use_cpu_cores
use_cpu_cores()
t1 = time.perf_counter()
cfg = Config(dataset="digits", epochs=1)
config_data(cfg)
t2 = time.perf_counter()
result = run.train(cfg, seed=0)
t3 = time.perf_counter()
text = json.dumps({"final": result.final})
with open(sys.argv[1], "w") as f:
    f.write(text)
t4 = time.perf_counter()
train_s = (t3 - t2) - result.compile_time_s
print(json.dumps({"imports": t1 - t0, "data load": t2 - t1,
                  "compile or cache load": result.compile_time_s, "training": train_s,
                  "writing": t4 - t3}))
"""


def _time(argv: list[str], env: dict, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _phases(env: dict, folder: Path) -> dict:
    argv = [sys.executable, "-c", PHASES, str(folder / "result.json")]
    done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(repeats: int) -> dict:
    env = dict(os.environ)
    python = sys.executable
    out: dict = {}
    out["import jax"] = _time([python, "-c", "import jax"], env, repeats)
    out["coagentnet --help"] = _time([python, "-c", CLI, "--help"], env, repeats)
    out["coagentnet train --help"] = _time([python, "-c", CLI, "train", "--help"], env, repeats)
    with tempfile.TemporaryDirectory() as cache:  # an empty compile cache: cold, then warm
        env["COAGENTNET_COMPILE_CACHE"] = cache
        out["train digits 1 epoch, cold"] = _time([python, "-c", CLI, *TRAIN], env, 1)
        out["train digits 1 epoch, warm"] = _time([python, "-c", CLI, *TRAIN], env, repeats)
    with tempfile.TemporaryDirectory() as cache:
        env["COAGENTNET_COMPILE_CACHE"] = cache
        out["phases"] = {label: _phases(env, Path(cache)) for label in ("cold", "warm")}
    out["warm / import jax"] = out["train digits 1 epoch, warm"] / out["import jax"]
    return out


def table(out: dict) -> str:
    lines = ["| whole process | seconds |", "| --- | ---: |"]
    for key, value in out.items():
        if key not in ("phases", "warm / import jax"):
            lines.append(f"| {key} | {value:.2f} |")
    lines.append(f"| warm train / import jax | {out['warm / import jax']:.2f}x |")
    lines += ["", "| phase of one-seed train (in process) | cold s | warm s |"]
    lines.append("| --- | ---: | ---: |")
    for phase in out["phases"]["cold"]:
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
