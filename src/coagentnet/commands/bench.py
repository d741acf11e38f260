"""``coagentnet bench``: training throughput, compile time and peak memory of the standard cases.

Each (case, rule, P) is measured in a fresh process (so that its peak memory is its own),
coagent rule and backprop on the same architecture one after the other. Prints a table; with
``--json PATH`` also writes the full report (``--json -``: the report on stdout instead of the
table). Inputs are synthetic arrays of the real shapes: this measures speed, not accuracy.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys

from coagentnet.atomic import write_text
from coagentnet.commands.common import UsageError
from coagentnet.commands.paths import output_file

DEVICES = ("auto", "cpu", "gpu")


def add_parser(subparsers) -> None:
    from coagentnet.bench.cases import CASES, DEFAULT_CASES

    p = subparsers.add_parser(
        "bench", help="measure training throughput (updates/s) and memory", description=__doc__
    )
    p.add_argument(
        "--configs",
        default=",".join(DEFAULT_CASES),
        metavar="NAME[,...]",
        help=f"cases to measure (default {','.join(DEFAULT_CASES)}; all: {','.join(CASES)})",
    )
    p.add_argument(
        "--populations",
        default=None,
        metavar="P[,...]",
        help="population sizes (default 1,10,100,200,1000 on a CPU; up to 100000 on a GPU)",
    )
    p.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="where to run: cpu, gpu (error if none), or auto (gpu when present; default)",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="updates per timed chunk (default: each case's own, shorter for large P)",
    )
    p.add_argument("--repeats", type=int, default=3, help="timed chunks after the warm-up (3)")
    p.add_argument(
        "--json",
        nargs="?",
        const="bench.json",
        default=None,
        metavar="PATH",
        help="also write the full report as JSON (default path bench.json; '-': stdout only)",
    )
    p.add_argument(
        "--eval-chunk",
        type=int,
        default=None,
        metavar="E",
        help="examples per evaluation chunk (default: the engine's, "
        "coagentnet.training.evaluation.MAX_CHUNK)",
    )
    p.add_argument(
        "--member-tile",
        default=None,
        metavar="T[,T...]",
        help="members per vmapped step, each measured beside the others in one process "
        "(default: the engine's, 1; 0 vmaps a device's whole population at once, which is "
        "faster for tiny networks but not bitwise invariant to the grouping)",
    )
    p.add_argument(
        "--inline",
        action="store_true",
        help="measure in this process: faster, but peak memory is then not per measurement",
    )


def _int_list(option: str, text: str, minimum: int = 1) -> list[int]:
    try:
        values = [int(x) for x in text.split(",")]  # an empty item is a typo, not skipped
    except ValueError:
        raise UsageError(f"{option}: expected comma-separated integers, got {text!r}") from None
    if not values or any(v < minimum for v in values):
        raise UsageError(f"{option}: expected integers >= {minimum}, got {text!r}")
    return values


def gpu_available(inline: bool) -> bool:
    """Whether JAX sees a GPU. Without the CUDA plugin installed the answer is no at once;
    otherwise a throwaway process asks, so that this one never initialises (and preallocates)
    the GPU that the measurements will need (unless measuring in this process anyway)."""
    plugins = ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm60_plugin", "jax_rocm7_plugin")
    if not any(importlib.util.find_spec(name) for name in plugins):
        return False
    if inline:
        import jax

        try:
            return bool(jax.devices("gpu"))
        except RuntimeError:
            return False
    env = {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    probe = [sys.executable, "-c", "import jax; jax.devices('gpu')"]
    return subprocess.run(probe, capture_output=True, env=env).returncode == 0


def resolve_device(device: str, inline: bool) -> str:
    """``auto`` -> ``gpu`` or ``cpu``; ``gpu`` without a GPU is a user error (one line)."""
    if device == "cpu":
        return "cpu"
    has_gpu = gpu_available(inline)
    if device == "gpu" and not has_gpu:
        raise UsageError(
            "--device gpu: JAX sees no GPU here (install the CUDA build with "
            "`pip install -e '.[cuda]'` on a machine with an NVIDIA GPU, or use --device cpu)"
        )
    return "gpu" if has_gpu else "cpu"


def run(args: argparse.Namespace) -> int:
    from coagentnet.bench import harness, table
    from coagentnet.bench.cases import CASES, DEFAULT_POPULATIONS

    cases = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown or not cases:
        raise UsageError(
            f"--configs: unknown case {', '.join(unknown) or repr(args.configs)}; "
            f"known: {', '.join(CASES)}"
        )
    if args.steps is not None and args.steps <= 0:
        raise UsageError(f"--steps: must be > 0, got {args.steps}")
    if args.repeats <= 0:
        raise UsageError(f"--repeats: must be > 0, got {args.repeats}")
    if args.eval_chunk is not None and args.eval_chunk <= 0:
        raise UsageError(f"--eval-chunk: must be > 0, got {args.eval_chunk}")
    tiles = [None] if args.member_tile is None else _int_list("--member-tile", args.member_tile, 0)
    if args.json not in (None, "-"):  # checked now, not after the whole run
        output_file(args.json, "--json", UsageError)
    device = resolve_device(args.device, args.inline)
    populations = (
        _int_list("--populations", args.populations)
        if args.populations is not None
        else list(DEFAULT_POPULATIONS[device])
    )
    plan = harness.Plan(
        cases=cases,
        populations=populations,
        device=device,
        steps=args.steps,
        repeats=args.repeats,
        inline=args.inline,
        eval_chunk=args.eval_chunk,
        member_tiles=tiles,
    )
    # each measures the coagent rule and backprop at every member tile
    total = 2 * len(tiles) * len(plan.measurements())
    done = [0]

    def progress(row: dict) -> None:
        done[0] += 1
        rate = row.get("us_per_update")
        what = (
            f"{rate:.2f} us/update"
            if rate is not None
            else row.get("error") or "skipped: " + row.get("skipped", "")
        )
        print(
            f"[{done[0]}/{total}] {row['case']} {row['rule']} P={row['population']}: {what}",
            file=sys.stderr,
            flush=True,
        )

    def keep(report: dict) -> None:  # after every measurement too: a cut run keeps its rows
        write_text(args.json, json.dumps(report, indent=1), option="--json")

    to_file = args.json not in (None, "-")
    report = harness.run(plan, progress=progress, partial=keep if to_file else None)
    if args.json == "-":
        print(json.dumps(report, indent=1))
        return 0
    print(table.table(report))
    if to_file:
        keep(report)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
