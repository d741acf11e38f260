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
import importlib
import os
import signal
import sys
import threading

#: Verb names, each a module under coagentnet.commands. Listed explicitly: no import-time
#: registration. The modules are imported only once SIGINT is handled (see _Interrupts).
VERBS = ("train", "sweep", "status", "export", "reproduce", "report", "bench", "diagnose")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        from coagentnet.commands.options import HelpFormatter

        kwargs.setdefault("formatter_class", HelpFormatter)  # every option shows its default
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # one line, exit 2, like every other user error
        self.exit(2, f"{self.prog}: error: {message}\n")

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an unknown option is reported by the verb it was given to
        (``coagentnet train: error: ...``), not by the top-level parser."""
        args, extra = self.parse_known_args(args, namespace)
        if extra:
            verbs = getattr(self, "verbs", {})
            parser = verbs.get(getattr(args, "verb", None), self)
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        return args


def build_parser() -> argparse.ArgumentParser:
    import coagentnet
    from coagentnet.commands.options import add_verbosity

    parser = _Parser(prog="coagentnet", description=__doc__.splitlines()[0])
    version = f"coagentnet {coagentnet.__version__}"
    parser.add_argument("--version", action="version", version=version)
    add_verbosity(parser)
    sub = parser.add_subparsers(dest="verb", parser_class=_Parser)
    parser.verbs = sub.choices
    for name in VERBS:
        importlib.import_module(f"coagentnet.commands.{name}").add_parser(sub)
        add_verbosity(sub.choices[name], default=argparse.SUPPRESS)
    return parser


class _Interrupts:
    """SIGINT for a real command line: raise KeyboardInterrupt, and raise it again until
    :func:`main` has caught one.

    Python drops an exception raised inside a garbage-collector callback or a ``__del__``
    (JAX's ``_xla_gc_callback`` is one: "Exception ignored in ..."), and the sweep would then
    run on to exit 0. So the first Ctrl-C also starts a thread that re-sends SIGINT every
    quarter second until :meth:`caught` says the interrupt reached ``main``. An interrupt
    that lands inside an import is held back until the import is done: numpy and jaxlib turn
    it into an ImportError (a traceback) and leave half-built modules behind.
    """

    RESEND_S = 0.25

    def __init__(self):
        self.seen = threading.Event()
        self.done = threading.Event()
        signal.signal(signal.SIGINT, self._handler)
        self._hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable

    def _unraisable(self, info) -> None:
        if isinstance(info.exc_value, KeyboardInterrupt):
            return  # dropped in a gc callback: no "Exception ignored" text, it comes again
        self._hook(info)

    def _handler(self, signum, frame):
        if self.done.is_set():
            return
        if not self.seen.is_set():
            self.seen.set()
            threading.Thread(target=self._resend, daemon=True).start()
        if _importing(frame):
            return  # the resend thread delivers it again in a moment
        raise KeyboardInterrupt

    def _resend(self) -> None:
        while not self.done.wait(self.RESEND_S):
            os.kill(os.getpid(), signal.SIGINT)

    def caught(self) -> None:
        self.done.set()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # cleanup from here on is not interrupted


def _importing(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def main(argv: list[str] | None = None) -> int:
    program = argv is None  # a real command line, not a library call
    interrupts = _Interrupts() if program else None
    # The verb for messages before the command line is parsed (an interrupt during imports).
    named = next((w for w in (sys.argv[1:] if program else argv) if w in VERBS), None)
    verb = f"coagentnet {named}" if named else "coagentnet"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)  # --help exits here, before JAX is imported
        if program:  # one JAX device per CPU core (before JAX runs anything)
            from coagentnet.training.devices import use_cpu_cores

            use_cpu_cores()
        if args.verb is None:  # a bare `coagentnet`: the help, and the usage-error exit code
            parser.print_help()
            code = 2
        else:
            from coagentnet.commands.options import setup_logging

            setup_logging(args.verbosity)
            module = importlib.import_module(f"coagentnet.commands.{args.verb}")
            code = int(module.run(args) or 0)
            if program:  # a reader that left fails this flush, in the handler below, not at exit
                sys.stdout.flush()
        if interrupts is None:
            return code
        if not interrupts.seen.is_set():
            interrupts.caught()  # the work is done: a late Ctrl-C must not break the exit
            return code
        raise KeyboardInterrupt  # one was swallowed on the way: the run was still cut short
    except KeyboardInterrupt:
        if interrupts is not None:
            interrupts.caught()
        print(f"{verb}: interrupted", file=sys.stderr)
        return _exit(130, program)
    except BrokenPipeError:  # `coagentnet ... | head`: the reader left; what was written stands
        if not program:
            raise
        # Point stdout at /dev/null so that the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _exit(141, program)  # 128 + SIGPIPE, as a shell reports a killed writer
    except Exception as err:
        from coagentnet.errors import USER_ERRORS  # the user's: one line, exit code 2

        if not isinstance(err, USER_ERRORS):
            raise
        print(f"{verb}: error: {err}", file=sys.stderr)
        return 2


def _exit(code: int, program: bool) -> int:
    """Leave at once after an interrupt: the stores are closed by now, and letting JAX's
    threads run into interpreter shutdown mid-computation can crash (a segfault after
    "interrupted")."""
    if program:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
