"""Conventions every verb shares: how a float is written on the command line, how defaults
show in ``--help``, and what ``-q`` / ``-v`` mean.

Floats: a plain number (``0.001``, ``1e-3``) or a power of two, ``2^k`` or ``2**k`` with an
integer k (``2^-6``), the way the docs and sweep files speak of learning rates. Training runs
in float32, so a value float32 cannot hold (``2^1000``, ``2^-1000``, ``1e400``) is refused rather
than silently becoming inf or 0, and so are ``nan`` and ``inf``.
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys

import numpy as np

#: ``2^k`` / ``2**k`` with an optional sign on k.
_POWER = re.compile(r"^\s*2\s*(?:\^|\*\*)\s*(?P<k>[-+]?\d+)\s*$")
_FLOAT32 = np.finfo(np.float32)


def parse_float(text: str) -> float:
    """``text`` as a float: a number or ``2^k`` / ``2**k``. ``ValueError`` (one line) if it is
    neither, or if float32 cannot hold it (it overflows or underflows to 0)."""
    text = str(text).strip()
    match = _POWER.match(text)
    if match:
        k = int(match["k"])
        if not _FLOAT32.minexp <= k <= _FLOAT32.maxexp - 1:
            raise ValueError(
                f"{text!r}: 2^{k} is outside float32's range (2^{_FLOAT32.minexp} .. "
                f"2^{_FLOAT32.maxexp - 1})"
            )
        return 2.0**k
    if "^" in text or "**" in text:
        raise ValueError(f"{text!r}: a power of two is written 2^k or 2**k with an integer k")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r}: expected a number or 2^k") from None
    if math.isnan(value) or (math.isinf(value) and "inf" in text.lower()):
        raise ValueError(f"expected a finite number, got {text!r}")
    if value != 0 and not float(_FLOAT32.tiny) <= abs(value) <= float(_FLOAT32.max):
        raise ValueError(f"{text!r}: outside float32's range")
    return value


def float_option(text: str) -> float:
    """``parse_float`` as an argparse ``type=``: its error becomes argparse's one-line usage
    error (exit 2)."""
    try:
        return parse_float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


float_option.__name__ = "float"  # argparse names the type in its message


def positive_float(text: str) -> float:
    """argparse type: a float as :func:`parse_float` reads it, > 0."""
    value = float_option(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    """argparse type: a float as :func:`parse_float` reads it, >= 0."""
    value = float_option(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


#: Config field -> the group of options it is listed under in ``train`` and ``diagnose``.
FIELD_GROUPS: dict[str, str] = {
    **dict.fromkeys(
        ("dataset", "data_dir", "split_seed", "normalize", "input_range", "difficulty",
         "num_means", "batches_per_mean"), "data"),
    **dict.fromkeys(
        ("layers", "units", "unit_type", "num_actions", "value_map", "unit_std", "activation",
         "stochastic_readout", "partition"), "model"),
    **dict.fromkeys(
        ("rule", "baseline", "ema_decay", "loo_samples", "critic_width", "critic_depth",
         "critic_ratio", "actor_signal", "warm_start_epochs", "critic_target",
         "critic_input_norm", "explore_units",
         "explore_resample", "staged", "epsilon", "epsilon_schedule", "pretrain_epochs"), "rule"),
    **dict.fromkeys(
        ("optimizer", "lr", "clip_norm", "finetune_optimizer", "finetune_lr_scale"), "optimiser"),
    **dict.fromkeys(("batch_size", "epochs"), "budget"),
    **dict.fromkeys(("num_evals", "eval_mode", "grad_diagnostics"), "evaluation"),
}  # fmt: skip
GROUP_TITLES = {
    "data": "data (the data set and its split)",
    "model": "model (architecture and units)",
    "rule": "rule (learning rule, baseline, critics, exploration)",
    "optimiser": "optimiser",
    "budget": "budget",
    "evaluation": "evaluation",
    "runs": "runs and output",
}


def option_groups(parser: argparse.ArgumentParser) -> dict[str, argparse._ArgumentGroup]:
    """One argument group per :data:`GROUP_TITLES` entry, in that order (shown in the help)."""
    return {key: parser.add_argument_group(title) for key, title in GROUP_TITLES.items()}


_ROLE = re.compile(r":(?:mod|func|class|data|meth|attr):`~?([^`]+)`")


def plain(text: str) -> str:
    """Help text as plain text: no reStructuredText roles or double backticks (the docstrings
    the help is made from use both)."""
    text = _ROLE.sub(r"\1", text)
    return re.sub(r"``([^`]*)``", r"\1", text)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows every option's default, in plain text (:func:`plain`). An option whose default is
    ``None`` says what not giving it means in its own help (``default: ...``); a flag shows
    ``default: off``."""

    def _fill_text(self, text, width, indent):
        return super()._fill_text(plain(text), width, indent)

    def _get_help_string(self, action):
        return plain(self._help_with_default(action))

    def _help_with_default(self, action):
        text = action.help or ""
        if "default" in text or action.default is argparse.SUPPRESS or not action.option_strings:
            return text
        if isinstance(action, argparse._HelpAction | argparse._VersionAction):
            return text
        if action.nargs == 0:
            return f"{text} (default: {'on' if action.default else 'off'})"
        if action.default is None:
            return f"{text} (default: not set)"
        return f"{text} (default: %(default)s)"


def add_verbosity(parser: argparse.ArgumentParser, default=0) -> None:
    """``-q`` / ``-v``; a verb's parser gets ``default=SUPPRESS`` so that ``coagentnet -q
    train`` and ``coagentnet train -q`` both work."""
    group = parser.add_mutually_exclusive_group()
    quiet = "only warnings and errors on stderr (default: progress and notes too)"
    group.add_argument("-q", "--quiet", action="store_const", const=-1, dest="verbosity",
                       default=default, help=quiet)  # fmt: skip
    group.add_argument("-v", "--verbose", action="store_const", const=1, dest="verbosity",
                       default=default, help="debug messages too (default: none)")  # fmt: skip


class _CurrentStderr(logging.StreamHandler):
    """A stream handler that writes to ``sys.stderr`` as it is when a message is logged (a
    notebook's or a test's capture, a ``redirect_stderr``), not as it was when it was made."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # StreamHandler.__init__ assigns one: always use the current sys.stderr instead


def setup_logging(verbosity: int) -> None:
    """Messages of the ``coagentnet`` loggers go to stderr as ``coagentnet: message``;
    ``-q`` keeps warnings and errors, ``-v`` adds debug messages."""
    level = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}[verbosity]
    log = logging.getLogger("coagentnet")
    log.setLevel(level)
    if not log.handlers:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("coagentnet: %(message)s"))
        log.addHandler(handler)


def is_store_file(path) -> bool:
    """Whether ``path`` is a results store (an SQLite file) rather than a sweep file, so that
    ``status`` / ``export`` take either. Never blocks (a FIFO or device is not opened)."""
    from pathlib import Path

    from coagentnet.atomic import is_sqlite

    if Path(path).suffix in (".sqlite", ".db"):
        return True
    return is_sqlite(path)
