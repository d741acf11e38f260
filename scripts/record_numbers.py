"""Record a fixed set of numbers, bit for bit, to check that a refactoring changes none of them.

    PYTHONPATH=src python scripts/record_numbers.py OUT.json     (then compare two OUT files)

One population of two members per rule family (and per study option), the first population of
each study's quick preset (1 epoch, 3 members), a tiny sweep exported to CSV, and the summary of
its report. Floats are recorded with repr; metric rows by SHA-256. The imports fall back to the
flat layout before the regroup (commit 85fb7bb), so the same script runs on both sides.
"""

import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("COAGENTNET_CPU_DEVICES", "1")
from coagentnet.config import Config

try:
    from coagentnet.training.run import run_population as train_population
except ImportError:
    from coagentnet.train import train_population
try:
    from coagentnet.reproduce import STUDIES
except ImportError:
    from coagentnet.reproduce.studies import STUDIES
try:
    from coagentnet.sweeps import plan, sweepfile
except ImportError:
    from coagentnet import plan, sweepfile
from coagentnet.cli import main

out = {}


def digest(results):
    rows = []
    for r in results:
        rows.append(
            [
                r.seed,
                r.diverged,
                r.updates,
                sorted((k, repr(v)) for k, v in r.final.items()),
                hashlib.sha256(repr(r.metrics).encode()).hexdigest(),
            ]
        )
    return rows


small = dict(dataset="digits", epochs=1, units=8, batch_size=64)
families = {
    "backprop": dict(rule="backprop"),
    "st": dict(rule="straight_through"),
    "stg": dict(rule="straight_through_gated"),
    "reinforce_ema": dict(rule="reinforce", baseline="ema"),
    "reinforce_state": dict(rule="reinforce", baseline="state", layers=2),
    "reinforce_layer_state_gauss": dict(
        rule="reinforce", baseline="layer_state", unit_type="gaussian"
    ),
    "ac": dict(rule="actor_critic", layers=2),
    "offp": dict(rule="off_policy", layers=2),
    "mc": dict(rule="mc_critic", unit_type="categorical"),
    "vb": dict(rule="value_based", unit_type="bernoulli2"),
    "partition": dict(rule="reinforce", unit_type="gaussian", layers=2, partition="sd"),
    "staged": dict(rule="reinforce", layers=2, epochs=2, staged=True),
    "explore": dict(rule="reinforce", explore_units=3),
    "pretrain": dict(rule="reinforce", baseline="ema", pretrain_epochs=1),
}
for name, f in families.items():
    cfgs = [Config(**{**small, **f}).replace(lr=lr) for lr in (2**-8, 2**-6)]
    out["family/" + name] = digest(train_population(cfgs, [0, 1]))

exp_dir = Path("experiments")
for st in STUDIES:
    for exp in st.experiments:
        sweep = sweepfile.load(exp_dir / st.name / f"{exp.file}.yaml", preset="quick")
        pops = plan.plan(sweep.runs, max_population=sweep.max_population)
        pop = pops[0]
        cfgs = [
            c.replace(epochs=1, num_means=2, batches_per_mean=3, num_evals=2)
            if c.is_stream
            else c.replace(epochs=1)
            for c in pop.configs[:3]
        ]
        out[f"preset/{st.name}/{exp.file}"] = [len(pops), len(pop)] + digest(
            train_population(cfgs, pop.seeds[:3])
        )

tmp = Path(tempfile.mkdtemp())
(tmp / "s.yaml").write_text("""name: s
base: {dataset: digits, layers: 1, units: 8, batch_size: 64, epochs: 1}
grid:
  - rule: [backprop]
    lr: {pow2: [-8, -6, 2]}
  - rule: [reinforce]
    baseline: [none, ema]
    lr: {pow2: [-8, -6, 2]}
seeds: 2
""")
with contextlib.redirect_stderr(io.StringIO()):
    assert (
        main(["sweep", str(tmp / "s.yaml"), "--store", str(tmp / "s.sqlite"), "--no-progress"]) == 0
    )
    assert (
        main(
            [
                "export",
                str(tmp / "s.yaml"),
                "--store",
                str(tmp / "s.sqlite"),
                "--out",
                str(tmp / "s.csv"),
            ]
        )
        == 0
    )
    assert main(["report", str(tmp / "s.sqlite"), "--out", str(tmp / "rep")]) == 0
out["sweep/csv"] = hashlib.sha256((tmp / "s.csv").read_bytes()).hexdigest()
summary = json.loads((tmp / "rep" / "summary.json").read_text())
summary.pop("timings_s", None)
# Figures sit next to the store, in a fresh temporary folder: keep only their file names.
for exps in summary["studies"].values():
    for info in exps.values():
        info["figures"] = [Path(f).name for f in info["figures"]]
out["report/summary"] = summary
Path(sys.argv[1]).write_text(json.dumps(out, indent=1, sort_keys=True))
print("recorded", len(out))
