"""Outside a terminal the progress display does not spam a log: a thousand chunks and a hundred
populations in well under the interval give at most a few lines, not one per chunk."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from coagentnet.commands.progress import Progress


@pytest.mark.parametrize("with_tqdm", [True, False])
def test_a_non_tty_log_gets_a_few_lines_not_one_per_chunk(monkeypatch, with_tqdm):
    if not with_tqdm:
        monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm fails: the plain lines
    else:
        pytest.importorskip("tqdm")
    err = io.StringIO()  # not a TTY
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setenv("COAGENTNET_PROGRESS_INTERVAL", "60")
    logger = logging.getLogger("coagentnet")
    monkeypatch.setattr(logger, "level", logging.INFO)
    progress = Progress(total=100)
    for _ in range(100):
        for _ in range(10):
            progress.updates(50)
        progress.runs(1)
    progress.close()
    lines = [line for line in err.getvalue().replace("\r", "\n").splitlines() if line.strip()]
    assert 1 <= len(lines) <= 4, lines
    assert "100/100" in lines[-1]
