"""The one sweep driver, ``run_missing``: what ``sweep`` and ``reproduce`` both run."""

from __future__ import annotations

from coagentnet.sweeps.backends import LocalBackend
from coagentnet.sweeps.driver import run_missing
from coagentnet.sweeps.store import Store
from test_backends import FAKE, _dump, _execute, _sweep


class Bar:
    """A progress object (``updates``, ``runs``, ``close``) that remembers what it was told."""

    def __init__(self, total: int):
        self.total, self.done, self.closed = total, 0, False

    def updates(self, n: int) -> None:
        pass

    def runs(self, n: int) -> None:
        self.done += n

    def close(self) -> None:
        self.closed = True


def test_run_missing_runs_what_is_missing_once_and_then_opens_no_backend(tmp_path):
    sweep = _sweep()
    opened, bars, plans = [], [], []

    def backend():
        opened.append(1)
        return LocalBackend(FAKE)

    def progress(total):
        bars.append(Bar(total))
        return bars[-1]

    with Store(tmp_path / "s.sqlite") as store:
        first = run_missing(sweep, store, backend, progress, on_plan=plans.append)
        again = run_missing(sweep, store, backend, progress, on_plan=plans.append)
    n = len(sweep.runs)
    assert (first.runs, first.todo, first.complete, first.trained + first.failed) == (n, n, 0, n)
    assert first.populations >= 1 and first.seconds > 0
    assert (again.todo, again.complete, again.trained, again.populations) == (0, n, 0, 0)
    assert len(opened) == 1  # the complete store started no backend
    assert len(bars) == 1 and bars[0].total == bars[0].done == n and bars[0].closed
    assert [p.todo for p in plans] == [n, 0]
    # The store holds what the backends' own driver writes for the same runs.
    ids = [r.id for r in sweep.runs]
    _execute(tmp_path / "direct.sqlite", sweep.runs, LocalBackend(FAKE))
    assert _dump(tmp_path / "s.sqlite", ids) == _dump(tmp_path / "direct.sqlite", ids)
