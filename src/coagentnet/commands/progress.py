"""The one progress display of the long commands (``train``, ``sweep``, ``reproduce``): runs
done of a total, training updates per second *excluding compilation*, and an estimate of the
time left, as a tqdm bar (or one line per finished population without tqdm).

The driver tells it ``updates(n)`` after each chunk of training and ``runs(n)`` when a
population's runs are written. A population's first chunk includes tracing and compiling its
program, so its updates and the time up to them are left out of the rate: updates/s is the
steady-state speed of training, not of compiling. (With several populations training at once
in a process pool the first report after any population finishes is taken as the new
population's first chunk: an approximation there, exact for the local backend and ``train``.)

``-q`` (the ``coagentnet`` logger above INFO) turns the display off. Outside a terminal (a
CI log, ``nohup``) the display writes at most one line every :data:`NON_TTY_INTERVAL_S`
seconds (``$COAGENTNET_PROGRESS_INTERVAL`` changes it), and a last one at the end, instead of
redrawing the bar at every chunk.
"""

from __future__ import annotations

import logging
import os
import sys
import time

#: Seconds between progress lines when stderr is not a terminal.
NON_TTY_INTERVAL_S = 60.0
INTERVAL_ENV = "COAGENTNET_PROGRESS_INTERVAL"


def _interval() -> float:
    try:
        return float(os.environ.get(INTERVAL_ENV, NON_TTY_INTERVAL_S))
    except ValueError:
        return NON_TTY_INTERVAL_S


class Progress:
    """``Progress(total)``: ``updates(n)``, ``runs(n)``, ``close()``."""

    def __init__(self, total: int, desc: str = "runs"):
        self.total, self.done = total, 0
        self.n_updates, self.busy_s = 0, 0.0
        self.start = self.last = time.perf_counter()
        self.fresh = True  # the next updates() is a population's first chunk (compiling)
        self.show = logging.getLogger("coagentnet").isEnabledFor(logging.INFO)
        self.bar = None
        self.tty = sys.stderr.isatty()
        self.interval = 0.0 if self.tty else _interval()
        self.printed = -float("inf")  # when the last plain line was printed
        if self.show:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=total, unit="run", desc=desc, dynamic_ncols=True,
                                mininterval=self.interval or 0.1)  # fmt: skip

    def rate(self) -> float:
        """Training updates per second since the first chunk of each population (NaN before
        any steady-state chunk)."""
        return self.n_updates / self.busy_s if self.busy_s > 0 else float("nan")

    def _postfix(self) -> str:
        rate = self.rate()
        return "compiling" if rate != rate else f"{rate:,.0f} updates/s"

    def updates(self, n: int) -> None:
        now = time.perf_counter()
        if self.fresh:
            self.fresh = False
        else:
            self.n_updates += n
            self.busy_s += now - self.last
        self.last = now
        if self.bar is not None:  # outside a terminal, shown at the bar's next timed update
            self.bar.set_postfix_str(self._postfix(), refresh=self.tty)

    def runs(self, n: int) -> None:
        self.done += n
        self.fresh, self.last = True, time.perf_counter()
        if self.bar is not None:
            self.bar.set_postfix_str(self._postfix(), refresh=False)
            self.bar.update(n)
        elif self.show and (self.done >= self.total or self.last - self.printed >= self.interval):
            self.printed = self.last
            elapsed = time.perf_counter() - self.start
            left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
            print(
                f"{self.done}/{self.total} runs, {self._postfix()}, about {left:,.0f} s left",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
