"""``scripts/ladder.py --runs-csv``: the per-run rows committed in place of a store give back
the table's selection and numbers (a real tiny sweep: two rules x two step sizes x two seeds)."""

from __future__ import annotations

import csv
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from coagentnet.cli import main

ROOT = Path(__file__).resolve().parents[1]
SWEEP = """name: s
base: {dataset: digits, layers: 1, units: 4, epochs: 2, batch_size: 64}
grid:
  rule: [backprop, reinforce]
  lr: [0.015625, 0.0625]
seeds: 2
"""


@pytest.mark.slow
def test_runs_csv_holds_every_run_and_the_selection(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(SWEEP)
    store = tmp_path / "s.sqlite"
    assert main(["sweep", str(tmp_path / "s.yaml"), "--store", str(store), "--no-progress"]) == 0
    out = tmp_path / "runs.csv"
    table = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "ladder.py"), str(store), "--runs-csv", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and {r["method"] for r in rows} == {"backprop", "reinforce"}
    assert all(r["updates"] == "32" and r["layers"] == "1" for r in rows)  # 1079 // 64 x 2
    for method in ("backprop", "reinforce"):
        mine = [r for r in rows if r["method"] == method]
        by_lr = {lr: [r for r in mine if r["lr"] == lr] for lr in {r["lr"] for r in mine}}
        auc = {lr: statistics.mean(float(r["val_auc"]) for r in rs) for lr, rs in by_lr.items()}
        best = max(auc, key=auc.get)
        assert all((r["lr"] == best) == (r["selected"] == "True") for r in mine)
        mean = statistics.mean(float(r["test_final"]) for r in by_lr[best])
        (line,) = [t for t in table.splitlines() if t.startswith(f"| {method} |")]
        assert f"| {mean:.3f} ± " in line
