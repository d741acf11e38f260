"""coagentnet report STORE: remake figures, tables and the HTML report from stores.

STORE is one results database (``.sqlite``) or a folder searched for them (e.g. the output
of ``coagentnet reproduce``). Stores made by ``reproduce`` carry their study, so their
figures are the study's; any other store (``coagentnet sweep``) gets learning curves at the
selected settings and, if the learning rate varies, a sensitivity curve.

``coagentnet report --records DIR`` reads committed run records instead (``coagentnet export
STORE --records DIR``) and writes the claim-2 rows of RESULTS.md (``claim2.md``: per arm,
each rule's final test accuracy mean [95% t interval], n, and the verdict for "off_policy
beats actor_critic and REINFORCE") and per arm the test accuracy and per-layer entropy and
on-fraction curves, into ``--out`` (default: DIR/report); the table is also printed.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="remake figures and the HTML report from stores", description=__doc__
    )
    p.add_argument("store", nargs="?", help="a results store (.sqlite) or a folder of them")
    p.add_argument(
        "--records", metavar="DIR", help="claim-2 rows and figures from committed run records"
    )
    p.add_argument("--out", help="where report.html goes (default: the folder, or the store's)")
    p.add_argument("--title", help="report title")


def run(args) -> int:
    from coagentnet.commands.common import UsageError
    from coagentnet.commands.paths import output_folder, read_timings
    from coagentnet.reproduce.report import build_report
    from coagentnet.reproduce.runner import read_meta

    if (args.store is None) == (args.records is None):
        raise UsageError("give a store (or folder of stores), or --records DIR, not both")
    if args.records:
        return _records(args)
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
    root = src if src.is_dir() else src.parent
    path, _ = build_report(stores, out, command=command, title=title, timings=timings, root=root)
    print(f"report: {path}", file=sys.stderr)
    return 0


def _records(args) -> int:
    """``--records DIR``: claim2.md and the claim-2 figures from records alone."""
    from coagentnet.analysis.claim2 import claim2_rows, lr_selection, markdown
    from coagentnet.analysis.claim2_figures import arm_figures
    from coagentnet.commands.common import UsageError
    from coagentnet.commands.paths import output_folder
    from coagentnet.sweeps.records import Records, RecordsError

    try:
        source = Records(args.records)
    except RecordsError as err:
        raise UsageError(str(err)) from None
    out = output_folder(args.out or Path(args.records) / "report", "--out", UsageError)
    rows = claim2_rows(source)
    if not rows:
        raise UsageError(f"records {args.records}: no complete runs of {', '.join(_rules())}")
    table = markdown(rows)
    command = "coagentnet report --records " + shlex.quote(str(args.records))
    out.mkdir(parents=True, exist_ok=True)
    (out / "claim2.md").write_text(f"<!-- made by: {command} -->\n{table}")
    selection = lr_selection(source)
    if selection:  # a screen: which lr each rule's validation AUC selects
        (out / "selection.md").write_text(f"<!-- made by: {command} -->\n{selection}")
    figures = arm_figures(source, out)
    print(table + (f"\nvalidation AUC by lr:\n{selection}" if selection else ""), end="")
    print(f"report: {out / 'claim2.md'} and {len(figures)} figure files", file=sys.stderr)
    return 0


def _rules() -> tuple[str, ...]:
    from coagentnet.analysis.claim2 import RULES

    return RULES


def _title(src: Path) -> str:
    """The study and preset (a reproduce folder) or the store's name: never a whole path."""
    src = src.resolve()
    if src.is_dir() and src.parent.name == "reproduce":
        return f"coagentnet: the paper's studies ({src.name} preset)"
    return f"coagentnet report: {src.stem if src.is_file() else src.name}"
