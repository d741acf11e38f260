"""coagentnet report STORE: remake figures, tables and the HTML report from stores.

STORE is one results database (``.sqlite``) or a folder searched for them (e.g. the output
of ``coagentnet reproduce``). Stores made by ``reproduce`` carry their study, so their
figures are the study's; any other store (``coagentnet sweep``) gets learning curves at the
selected settings and, if the learning rate varies, a sensitivity curve.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="remake figures and the HTML report from stores", description=__doc__
    )
    p.add_argument("store", help="a results store (.sqlite) or a folder of them")
    p.add_argument("--out", help="where report.html goes (default: the folder, or the store's)")
    p.add_argument("--title", help="report title")


def run(args) -> int:
    from coagentnet.commands.common import UsageError
    from coagentnet.reproduce.report import build_report
    from coagentnet.reproduce.runner import read_meta
    from coagentnet.validate import output_folder, read_timings

    src = Path(args.store)
    if src.is_dir():
        stores = sorted(p for p in src.rglob("*.sqlite"))
        default_out = src
    elif src.is_file():
        stores, default_out = [src], src.parent
    else:
        raise UsageError(f"no such store or folder: {src}")
    if not stores:
        raise UsageError(f"no .sqlite stores under {src}")
    for path in stores:
        try:
            read_meta(path)
        except Exception as err:
            reason = str(err).removeprefix(f"store {path}: ")  # named once, below
            raise UsageError(f"cannot read store {path}: {reason}") from None
    option = "--out" if args.out else "report folder (choose one with --out)"
    out = output_folder(args.out if args.out else default_out, option, UsageError)
    timings = read_timings(out / "timings.json", UsageError)
    if timings:
        timings.pop("this_invocation", None)
    command = "coagentnet report " + " ".join(shlex.quote(a) for a in [str(src)])
    made_by = {read_meta(p).get("command") for p in stores} - {None}
    if made_by:
        command = "\n".join(sorted(made_by)) + "\n(report remade by: " + command + ")"
    title = args.title or _title(Path(src))
    path, _ = build_report(stores, out, command=command, title=title, timings=timings)
    print(f"report: {path}", file=sys.stderr)
    return 0


def _title(src: Path) -> str:
    """The study and preset (a reproduce folder) or the store's name: never a whole path."""
    src = src.resolve()
    if src.is_dir() and src.parent.name == "reproduce":
        return f"coagentnet: the paper's studies ({src.name} preset)"
    return f"coagentnet report: {src.stem if src.is_file() else src.name}"
