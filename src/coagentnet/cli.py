"""The ``coagentnet`` command line: one entry point, one module per verb.

Each verb module in :mod:`coagentnet.commands` provides ``add_parser(subparsers)`` and
``run(args) -> int``. User errors (bad options, bad files, missing data) are printed as one
line on stderr with exit code 2, never as a traceback.

Run as a program (``coagentnet ...``, not ``main(argv)`` from Python), it first gives JAX one CPU
device per core so that populations are split over every core (:mod:`coagentnet.training.devices`;
``COAGENTNET_CPU_DEVICES=1`` turns this off).
"""

from __future__ import annotations

import argparse
import sys

from coagentnet.commands import bench, diagnose, export, report, reproduce, status, sweep, train
from coagentnet.commands.common import UsageError
from coagentnet.data import DataError
from coagentnet.errors import ConfigError

#: Verb name -> its module under coagentnet.commands. Listed explicitly: no import-time
#: registration.
VERBS = {
    "train": train,
    "sweep": sweep,
    "status": status,
    "export": export,
    "reproduce": reproduce,
    "report": report,
    "bench": bench,
    "diagnose": diagnose,
}

#: Errors that are the user's: one line on stderr, exit code 2.
USER_ERRORS = (ConfigError, DataError, UsageError)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like every other user error
        self.exit(2, f"coagentnet {self.prog.split()[-1]}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="coagentnet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for module in VERBS.values():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # a real command line (not a library call): one JAX device per CPU core
        from coagentnet.training.devices import use_cpu_cores

        use_cpu_cores()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(VERBS[args.verb].run(args) or 0)
    except USER_ERRORS as err:
        print(f"coagentnet {args.verb}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"coagentnet {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
