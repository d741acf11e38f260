"""The limits of user input: seeds, integer fields and the size of a sweep, and the parsing of
numbers from the command line. Each check raises an error whose message is one line naming the
option or field and what was expected; the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import argparse
import math

#: Seeds (and split seeds) are stored as SQLite integers and fed to JAX's PRNG as 32-bit
#: words: a larger value would overflow one of them long after the store was written.
MAX_SEED = 2**32 - 1
#: Integer config fields end up as int32 array shapes or loop counts in JAX.
MAX_INT = 2**31 - 1
#: A sweep larger than this is almost certainly a typo (seeds: 1000000000); it is refused
#: before the grid is expanded so that even ``--dry-run`` answers at once.
MAX_RUNS = 100_000


def _number(text: str, kind: type) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def seed(text: str) -> int:
    """argparse type: a seed in [0, MAX_SEED]."""
    value = _number(text, int)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be in [0, {MAX_SEED}], got {text!r}")
    return value


def check_seed_range(name: str, first: int, count: int, error: type[Exception]) -> None:
    """Seeds first .. first + count - 1 must all be valid seeds."""
    if first + count - 1 > MAX_SEED:
        raise error(f"{name}: seeds {first}..{first + count - 1} pass the largest, {MAX_SEED}")


__all__ = ["MAX_INT", "MAX_RUNS", "MAX_SEED", "check_seed_range", "seed"]
