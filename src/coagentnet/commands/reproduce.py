"""coagentnet reproduce STUDY|all: run the paper's studies and write figures and a report.

Each study's sweep files (``experiments/<study>/*.yaml``) run under the chosen preset
(``quick``: about 17 minutes for all six on 2 idle CPU cores, on real data available
offline; ``long``: from 20 minutes to hours for each study that has it; ``paper``: the
authors' scale). Resumable: runs already in the stores are skipped, so rerunning the same
command after an interruption finishes the work and remakes the report.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path


def add_parser(subparsers) -> None:
    from coagentnet.reproduce.names import PRESETS, STUDY_NAMES

    names = ", ".join(STUDY_NAMES)
    p = subparsers.add_parser(
        "reproduce", help="run the paper's studies; figures and an HTML report", description=__doc__
    )
    p.add_argument("studies", nargs="+", metavar="STUDY", help=f"'all' or some of: {names}")
    p.add_argument(
        "--preset",
        default="quick",
        help=f"scale: {', '.join(PRESETS)} (default quick; long: only some studies)",
    )
    p.add_argument("--out", help="output folder (default: results/reproduce/<preset>)")
    p.add_argument(
        "--backend",
        choices=("local", "process"),
        default="local",
        help="populations in this process (default) or in a process pool",
    )
    p.add_argument("--workers", type=int, default=2, help="process backend: workers (default 2)")
    p.add_argument("--experiments", help="folder of the study sweep files (default: the repo's)")
    p.add_argument("--report-only", action="store_true", help="run nothing; remake the report")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _studies(names: list[str]):
    from coagentnet.commands.common import UsageError
    from coagentnet.reproduce.studies import STUDIES, study

    if names == ["all"]:
        return list(STUDIES)
    out = []
    for name in names:
        try:
            out.append(study(name))
        except KeyError:
            known = ", ".join(s.name for s in STUDIES)
            raise UsageError(f"unknown study {name!r}; known: all, {known}") from None
    return out


def run(args) -> int:
    from coagentnet.commands.common import Progress, UsageError
    from coagentnet.commands.paths import output_folder, read_timings
    from coagentnet.reproduce.report import build_report
    from coagentnet.reproduce.runner import read_meta, run_study, store_path
    from coagentnet.reproduce.studies import STUDIES
    from coagentnet.reproduce.study_files import check_preset, experiments_dir
    from coagentnet.sweeps import backends

    studies = _studies(args.studies)
    if args.workers < 1:
        raise UsageError(f"--workers: must be >= 1, got {args.workers}")
    exp_dir = Path(args.experiments) if args.experiments else experiments_dir()
    if not exp_dir.is_dir():
        raise UsageError(f"no experiments folder at {exp_dir}; pass --experiments DIR")
    try:
        check_preset(studies, args.preset, exp_dir)
    except ValueError as err:
        raise UsageError(str(err)) from None
    out = output_folder(
        Path(args.out) if args.out else Path("results") / "reproduce" / args.preset,
        "--out",
        UsageError,
    )
    command = "coagentnet " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if not sys.argv[0].endswith("coagentnet"):
        command = "coagentnet reproduce " + " ".join(args.studies) + f" --preset {args.preset}"
    trainer = backends.DEFAULT_TRAINER

    def backend_factory():
        if args.backend == "process":
            return backends.ProcessBackend(trainer, args.workers)
        return backends.LocalBackend(trainer)

    progress = None if args.no_progress else Progress
    timings_path = out / "timings.json"
    timings = read_timings(timings_path, UsageError) or {}
    failed = False
    start = time.perf_counter()
    for st in studies:
        if args.report_only:
            continue
        log = run_study(
            st,
            args.preset,
            out,
            command=command,
            backend_factory=backend_factory,
            progress_factory=progress,
            exp_dir=exp_dir,
        )
        if log.trained or st.name not in timings:
            timings[st.name] = timings.get(st.name, 0.0) + log.seconds
        sys.stderr.write(  # one write: an interrupt cannot split the line
            f"reproduce {st.name}: {log.runs} runs, {log.trained} trained now "
            f"({log.diverged} diverged, {log.failed} failed) in {log.seconds:.0f} s\n"
        )
        sys.stderr.flush()
        for err in log.errors:
            print(f"  error: {err}", file=sys.stderr)
        failed |= bool(log.errors or log.failed)
    if not args.report_only:
        timings["total"] = sum(v for k, v in timings.items() if k != "total")
        timings["this_invocation"] = time.perf_counter() - start
        out.mkdir(parents=True, exist_ok=True)
        timings_path.write_text(json.dumps(timings, indent=1))
    # The report is of the folder: every study's stores in it, not only those run now (a
    # `reproduce mnist_deep` after `reproduce all` must not drop the other five studies).
    stores = [
        p
        for st in STUDIES
        for e in st.experiments
        if (p := store_path(out, st.name, e.file)).exists()
    ]
    if not stores:
        raise UsageError(f"no results under {out}; run without --report-only first")
    # ... and names every command that made them
    made_by = sorted({read_meta(p).get("command") for p in stores} - {None})
    if args.report_only:
        made_by.append(f"(report remade by: {command})")
    command = "\n".join(made_by or [command])
    title = f"coagentnet: the paper's studies ({args.preset} preset)"
    shown = {k: v for k, v in timings.items() if k != "this_invocation"}
    path, _ = build_report(stores, out, command=command, title=title, timings=shown)
    print(f"reproduce: report {path}", file=sys.stderr)
    return 1 if failed else 0
