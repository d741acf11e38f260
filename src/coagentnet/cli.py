"""The ``coagentnet`` command line: one entry point, one module per verb.

Each verb module in :mod:`coagentnet.commands` provides ``add_parser(subparsers)`` and
``run(args) -> int``. User errors (bad options, bad files, missing data) are printed as one
line on stderr with exit code 2, never as a traceback.

Run as a program (``coagentnet ...``, not ``main(argv)`` from Python), it first gives JAX one CPU
device per core so that populations are split over every core (:mod:`coagentnet.devices`;
``COAGENTNET_CPU_DEVICES=1`` turns this off).
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: Verb name -> module under coagentnet.commands. Listed explicitly: no import-time registration.
VERBS = ("train", "sweep", "status", "export", "reproduce", "report", "bench")


class UsageError(ValueError):
    """A user error detected by a command (exit code 2, one line)."""


def _user_errors() -> tuple[type[BaseException], ...]:
    from coagentnet.config import ConfigError
    from coagentnet.data import DataError
    from coagentnet.store import StoreError

    return (ConfigError, DataError, StoreError, UsageError)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like every other user error
        self.exit(2, f"coagentnet {self.prog.split()[-1]}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="coagentnet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for verb in VERBS:
        module = importlib.import_module(f"coagentnet.commands.{verb}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    program = argv is None  # a real command line, not a library call
    named = next((w for w in (sys.argv[1:] if program else argv) if w in VERBS), None)
    verb = f"coagentnet {named}" if named else "coagentnet"
    try:
        if program:  # one JAX device per CPU core
            from coagentnet.devices import use_cpu_cores

            use_cpu_cores()
        parser = build_parser()
        args = parser.parse_args(argv)
        module = importlib.import_module(f"coagentnet.commands.{args.verb}")
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print(f"{verb}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if not isinstance(err, _user_errors()):
            raise
        print(f"{verb}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
