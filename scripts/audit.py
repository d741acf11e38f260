"""Replay the adversarial input audits against the ``coagentnet`` command line and Python API.

Two audits are replayed: the first (issue 16) and input audit 2 (issue 23, its sections 1-17
and extra findings; ``section`` names the source of each case). Each case is a bad (or unusual
but valid) input run as a real process in a fresh folder, and its outcome is classified:

- ``clean``: what the audit's "Expected" text asks for: a refusal is exit 2 with one stderr
  line (the last line where a sweep prints status lines first) and nothing created or changed;
  a valid input is exit 0, with the warning or output the case names;
- ``traceback``: a Python traceback on stderr;
- ``silent``: a bad input accepted (exit 0), a damaged or forged run counted as complete, or
  a loss reported as success;
- ``lost``: a file that held results (or any file the case protects) was changed or removed;
- ``other``: a hang (timeout), a wrong exit code, several lines, or files left behind.

Usage::

    python scripts/audit.py [--src DIR] [--jobs N] [--only TEXT] [--out FILE.md] [-v]

``--src`` puts another source tree first on ``PYTHONPATH`` (to measure an older version);
``--out`` writes the per-case table as Markdown. The last line printed is the summary:
``tried N: clean a, traceback b, silent c, lost d, other e`` (and ``skipped k`` if any).

Sweeps use the fake trainer of ``tests/sweep_fakes.py`` unless a case needs the real one
(checkpoints, ``train``, the Python API), so the whole audit takes minutes. Python-API cases
run as ``python -c`` processes that exit 2 with one line when the expected exception is raised.
Root-only cases (``chattr +i``, small tmpfs mounts for a read-only folder and a full disk) are
skipped, with the reason, where this process may not use them; the harness always undoes them.
Not covered here (see tests/test_interrupts.py): SIGKILL timing.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gzip
import hashlib
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--dataset", "digits", "--layers", "1", "--units", "4", "--epochs", "1", "--seeds", "1"]
SWEEP = "name: s\nbase: {units: 4, layers: 1, epochs: 1}\ngrid:\n  lr: [0.01, 0.02, 0.03]\n"
STORE = "results/s.sqlite"
TIMEOUT_S = 60
REAL_TIMEOUT_S = 300  # the real trainer compiles; the machine may be loaded
KINDS = ("clean", "traceback", "silent", "lost", "other")

Verify = Callable[[Path, subprocess.CompletedProcess, dict, dict], "tuple[str, str] | None"]


@dataclass
class Case:
    name: str
    argv: list[str]  # coagentnet CLI arguments (ignored when ``python`` is set)
    files: dict[str, str | bytes] = field(default_factory=dict)  # written before the run
    store: str | None = None  # a finished store copied to this path, then damaged
    damage: str | None = None  # SQL run on that store, or "junk"
    env: dict[str, str] = field(default_factory=dict)
    expect: int | None = 2  # 2: a one-line refusal; 0: accepted; 130: interrupted; None: either
    check: str | None = None  # text the stdout of a valid run must contain
    section: str = "issue 16"
    says: str | None = None  # text stderr (its last line, for a refusal) must contain
    forbid: str | None = None  # text stderr must not contain
    one_line: bool = True  # a refusal is the only stderr line (False: status lines may precede)
    python: str | None = None  # run ``python -c`` this instead of the CLI
    real: bool = False  # use the real trainer instead of the fake one
    prep: Callable[[Path, dict], list] | None = None  # sets up; returns undo callables
    during: Callable[[Path, subprocess.Popen], None] | None = None  # runs alongside
    verify: Verify | None = None  # extra checks of an outcome that is otherwise clean
    protect: list[str] | None = None  # files that must not change (default: the store)
    rlimit_as: int | None = None  # bytes of address space (the audit's ulimit -v)
    root: str | None = None  # "chattr" or "mount": needs root and that tool
    timeout: int | None = None


def cases_audit1() -> list[Case]:
    s = {"s.yaml": SWEEP}
    out = []

    def train(name, *extra, env=None):
        out.append(Case(f"train {name}", ["train", *TINY, *extra], env=env or {}))

    for flag, value in [
        ("--lr", "inf"),
        ("--lr", "1e400"),
        ("--lr", "nan"),
        ("--lr", "-1"),
        ("--lr", "abc"),
        ("--unit-std", "inf"),
        ("--first-seed", "99999999999999999999999"),
        ("--first-seed", "-1"),
        ("--units", "1000000000"),
        ("--layers", "1000000"),
        ("--split-seed", "-1"),
        ("--lr", "0.1,,0.2"),
        ("--seeds", "0"),
        ("--rule", "magic"),
        ("--data-dir", "."),
        ("--batch-size", "100000"),
        ("--epochs", "99999999999"),
    ]:
        train(f"{flag} {value}", f"{flag}={value}")
    train("--critic-ratio inf", "--rule", "actor_critic", "--critic-ratio", "inf")
    train("--data-dir missing", "--dataset", "fashion-mnist", "--data-dir", "nowhere")
    train("COAGENTNET_CPU_DEVICES=abc", env={"COAGENTNET_CPU_DEVICES": "abc"})

    def sweep_file(name, text, *flags, raw=None):
        body = raw if raw is not None else text
        out.append(Case(f"sweep file {name}", ["sweep", "f.yaml", *flags], files={"f.yaml": body}))

    base = "base: {units: 4, epochs: 1}\n"
    sweep_file("lr .inf", "base: {lr: .inf}\n")
    sweep_file("memory_mb .nan", base + "population: {memory_mb: .nan}\n")
    sweep_file("memory_mb .inf", base + "population: {memory_mb: .inf}\n")
    sweep_file("pow2 overflow", base + "grid:\n  lr: {pow2: [1020, 1030]}\n")
    sweep_file("seeds 1e9", base + "seeds: 1000000000\n")
    sweep_file("seed 2^64", base + "seeds: [18446744073709551616]\n")
    sweep_file("split_seed -1", "base: {split_seed: -1, units: 4, epochs: 1}\n")
    sweep_file("batch_size > data", "base: {batch_size: 100000, units: 4, epochs: 1}\n")
    sweep_file("units 1e9", "base: {units: 1000000000, epochs: 1}\n")
    sweep_file("duplicate key", "base:\n  lr: 0.1\n  lr: 0.2\n")
    sweep_file("bad value in unchosen preset", base + "presets:\n  p:\n    base: {units: -3}\n")
    sweep_file("unknown key in unchosen preset", base + "presets:\n  p:\n    base: {unitz: 3}\n")
    sweep_file("PNG", "", raw=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00")
    sweep_file("binary", "", raw=bytes(range(256)))
    big = "grid:\n  lr: {pow2: [-500, 499]}\n  units: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nseeds: 100\n"
    sweep_file("million runs, dry run", big, "--dry-run")
    sweep_file("empty axis mapping", base + "grid:\n  lr: {}\n")
    sweep_file("unknown key", "base: {unitz: 4}\n")
    sweep_file("wrong type", base + "grid:\n  lr: [0.1, abc]\n")
    out.append(
        Case(
            "sweep file truncated IDX",
            ["sweep", "f.yaml"],
            files={
                "f.yaml": "base: {dataset: mnist, data_dir: data, units: 4, epochs: 1}\n",
                **_truncated_idx(),
            },
        )
    )

    for name, flags in [
        ("--memory-mb nan", ["--memory-mb", "nan"]),
        ("--memory-mb inf", ["--memory-mb", "inf"]),
        ("--workers 2 local", ["--workers", "2"]),
        ("--gpus-per-task -1", ["--backend", "ray", "--gpus-per-task=-1"]),
        ("--cpus-per-task 0", ["--backend", "ray", "--cpus-per-task", "0"]),
        ("--store ''", ["--store", ""]),
        ("--max-population 0", ["--max-population", "0"]),
    ]:
        out.append(Case(f"sweep {name}", ["sweep", "s.yaml", *flags], files=s))
    foreign = {"s.yaml": SWEEP}
    out.append(
        Case(
            "sweep foreign sqlite",
            ["sweep", "s.yaml", "--store", "x.sqlite"],
            files=foreign,
            store=None,
            damage="foreign",
        )
    )

    damages = {
        "junk pages": "junk",
        "schema_version not int": "UPDATE meta SET value = 'one' WHERE key = 'schema_version'",
        "dropped metrics": "DROP TABLE metrics",
        "dropped runs": "DROP TABLE runs",
        "bad config JSON": "UPDATE runs SET config = '{oops'",
    }
    for dname, sql in damages.items():
        for verb in ("status", "sweep", "export", "report"):
            if dname == "bad config JSON" and verb in ("status", "sweep"):
                continue
            argv = [verb, STORE] if verb == "report" else [verb, "s.yaml"]
            out.append(Case(f"{verb} store {dname}", argv, files=s, store=STORE, damage=sql))
    for dname, sql in {
        "bad final": "UPDATE runs SET final = 'x' WHERE rowid = 1",
        "no metrics": "DELETE FROM metrics WHERE run = (SELECT id FROM runs WHERE rowid = 1)",
    }.items():
        out.append(
            Case(
                f"status store {dname}",
                ["status", "s.yaml"],
                files=s,
                store=STORE,
                damage=sql,
                expect=0,
                check="done 2, running 0, pending 1",
            )
        )
    out.append(
        Case("status missing store", ["status", "s.yaml", "--store", "typo.sqlite"], files=s)
    )
    out.append(
        Case(
            "report junk timings.json",
            ["report", STORE],
            files={**s, "results/timings.json": "{nope"},
            store=STORE,
        )
    )

    out.append(
        Case("export --out the store", ["export", "s.yaml", "--out", STORE], files=s, store=STORE)
    )
    out.append(
        Case(
            "export store named .csv",
            ["export", "s.yaml", "--store", "st.csv"],
            files=s,
            store="st.csv",
        )
    )
    for name, argv in [
        ("export --out a folder", ["export", "s.yaml", "--out", "results"]),
        ("export --out /proc", ["export", "s.yaml", "--out", "/proc/x.csv"]),
        ("export --out under a file", ["export", "s.yaml", "--out", "s.yaml/x.csv"]),
        ("report --out a file", ["report", STORE, "--out", "s.yaml"]),
        ("report --out /proc", ["report", STORE, "--out", "/proc/x"]),
    ]:
        out.append(Case(name, argv, files=s, store=STORE))
    out.append(Case("reproduce --out /proc", ["reproduce", "all", "--out", "/proc/x"]))
    quick_bench = [
        "bench",
        "--configs",
        "correlated-1x50",
        "--populations",
        "1",
        "--steps",
        "10",
        "--repeats",
        "1",
        "--inline",
        "--device",
        "cpu",
    ]
    out.append(Case("bench --json /proc", [*quick_bench, "--json", "/proc/x.json"]))
    out.append(Case("bench --populations 1,,2", ["bench", "--populations", "1,,2"]))

    for odd in ("a#b", "a?b", "100%"):
        out.append(
            Case(
                f"status store in folder {odd!r}",
                ["status", "s.yaml", "--store", f"{odd}/s.sqlite"],
                files=s,
                store=f"{odd}/s.sqlite",
                expect=0,
                check="done 3",
            )
        )
    return out


# --- input audit 2 (issue 23) ------------------------------------------------------------------

TINY_YAML = (
    "name: tiny\nbase: {dataset: digits, layers: 1, units: 8, epochs: 1}\n"
    "grid: {rule: [reinforce]}\nseeds: 2\n"
)
DMG_YAML = "name: dmg\nbase: {dataset: digits, layers: 1, units: 8, epochs: 2}\nseeds: 1\n"
MORE_YAML = (
    "name: more\nbase: {dataset: digits, layers: 1, units: 8, epochs: 1}\nseeds: [5, 6, 7]\n"
)
BIG_YAML = "name: big\nbase: {units: 4, layers: 1, epochs: 3000}\nseeds: 10\n"
BIG_STORE = "big.sqlite"  # about 60k metric rows (fake trainer): an export of a few MB
MiB = 1 << 20


def _cli(folder: Path, env: dict, *argv: str) -> subprocess.CompletedProcess:
    """A setup step: a CLI command that must succeed."""
    return subprocess.run(
        [sys.executable, "-m", "coagentnet.cli", *argv],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=REAL_TIMEOUT_S,
    )


def _py(folder: Path, env: dict, code: str) -> str:
    """A setup step: a Python snippet that must succeed; its stdout."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=REAL_TIMEOUT_S,
    )
    if proc.returncode:
        raise RuntimeError(f"setup failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout.strip()


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def _mount(folder: Path, size: str) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    _sh("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    return [lambda: _sh("umount", str(folder))]


def _chattr(path: Path) -> list:
    _sh("chattr", "+i", str(path))
    return [lambda: _sh("chattr", "-i", str(path))]


def _rows(db_path: Path, sql: str) -> list:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _done(store: str, n: int) -> Verify:
    def verify(folder, proc, before, after):
        got = _rows(folder / store, "SELECT count(*) FROM runs WHERE status = 'done'")[0][0]
        if got != n:
            return "other", f"{got} runs done in {store}, expected {n}"
        return None

    return verify


def _population_file(folder: Path, env: dict, sweep: str, store: str) -> Path:
    """Where the (one-population) sweep's checkpoint goes, computed as the audit does."""
    name = _py(
        folder,
        env,
        "from coagentnet.sweeps import sweepfile\n"
        "from coagentnet.training.checkpoint import population_name\n"
        f"print(population_name([r.id for r in sweepfile.load({sweep!r}).runs]))",
    )
    ckdir = folder / f"{store}.checkpoints"
    ckdir.mkdir(parents=True, exist_ok=True)
    return ckdir / f"{name}.npz"


def _huge_shape_zip(path: Path) -> None:
    import zipfile

    hdr = b"{'descr': '<U8', 'fortran_order': False, 'shape': (100000000000,), }"
    hdr += b" " * (63 - (len(hdr) + 10) % 64) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr + b"x" * 64
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("meta.npy", npy)


def _plain_npy(path: Path) -> None:
    import numpy as np

    with open(path, "wb") as f:
        np.save(f, np.zeros(3))


CHECKPOINT_DAMAGE: dict[str, Callable[[Path], None]] = {
    "0-byte file": lambda p: p.write_bytes(b""),
    "plain .npy": _plain_npy,
    "zip declaring a huge shape": _huge_shape_zip,
    "npy header of 65535 bytes": lambda p: p.write_bytes(b"\x93NUMPY\x01\x00\xff\xff{"),
    "npy header of 4 GiB": lambda p: p.write_bytes(b"\x93NUMPY\x02\x00\xff\xff\xff\xff{"),
    "directory": lambda p: p.mkdir(),
    "FIFO": lambda p: os.mkfifo(p),
}

FORGE = """
import json, sys, numpy as np
from coagentnet.sweeps import sweepfile
from coagentnet.training import checkpoint_file
from coagentnet.training.checkpoint import Checkpointer, checkpoint_dir
from coagentnet.training.checkpoint import population_key, population_name
from coagentnet.training.run import run_population
s = sweepfile.load("forge.yaml"); runs = list(s.runs)
ids = [r.id for r in runs]; configs = [r.config for r in runs]; seeds = [r.seed for r in runs]
name = population_name(ids)
key = population_key(configs, seeds)   # public inputs only
# the forger's own checkpoint of the same population (array shapes), under a guessed secret
class Stop(Exception): pass
own = Checkpointer("own", name, key, interval_s=0, run_ids=ids, secret="guessed")
def stop(_): raise Stop
try: run_population(configs, seeds, checkpoint=own, progress=stop)
except Stop: pass
meta, leaves = checkpoint_file.read(own.path, name=name, run_ids=ids, key=key, secret=b"guessed")
fake = {"train/accuracy": 0.999, "validation/accuracy": 0.999, "test/accuracy": 0.999,
        "test/loss": 0.001}
rows = [[st, sp, "accuracy", None, 0.999]
        for st in (0, 1, 2) for sp in ("train", "validation", "test")]
d = checkpoint_dir("forge.sqlite"); d.mkdir(exist_ok=True)
if sys.argv[1] == "npz":   # the audit's forge.py: an .npz with a recomputed key
    meta = {"format": 1, "key": key, "chunks": 2, "rows": [rows], "final": [fake],
            "stopped": [False], "compile_time_s": 0.0}
    np.savez(d / f"{name}.npz", meta=np.array(json.dumps(meta)), **leaves)
else:                      # today's format, signed with a guessed secret
    meta.update(rows=[rows], final=[fake])
    (d / f"{name}.npz").write_bytes(checkpoint_file.encode(
        name=name, run_ids=ids, key=key, secret=b"guessed", meta=meta, arrays=leaves))
"""


def _not_forged(folder, proc, before, after):
    finals = _rows(folder / "forge.sqlite", "SELECT status, final FROM runs")
    fakes = _rows(folder / "forge.sqlite", "SELECT count(*) FROM metrics WHERE value = 0.999")
    if any(f and "0.999" in f for _, f in finals) or fakes[0][0]:
        return "silent", f"the forged numbers were stored: {finals}"
    if [s for s, _ in finals] != ["done"]:
        return "other", f"runs: {finals}"
    return None


API = """
import sys, numpy as np, coagentnet as cn
rng = np.random.default_rng(0)
x = rng.normal(size=(100, 4)).astype(np.float32); y = rng.integers(0, 3, 100)
cfg = cn.Config(dataset="digits", layers=1, units=8, epochs=1)
try:
    {call}
except cn.{error} as err:
    print(f"refused: {{type(err).__name__}}: {{err}}", file=sys.stderr); sys.exit(2)
print("accepted")
"""


def _api(name: str, call: str, error: str, expect: int = 2) -> Case:
    return Case(
        f"API {name}",
        [],
        python=API.format(call=call, error=error),
        expect=expect,
        section="2 #17",
        real=expect == 0,
    )


def _sig(st: os.stat_result | None):
    return st and (st.st_size, st.st_mtime_ns)


def _interrupt_on_write(target: str) -> Callable[[Path, subprocess.Popen], None]:
    """Ctrl-C as soon as the export starts writing: a new file appears in the folder, or the
    target changes (an export writing in place)."""

    def during(folder: Path, proc: subprocess.Popen) -> None:
        names = set(os.listdir(folder))
        path = folder / target
        first = path.stat() if path.exists() else None
        while proc.poll() is None:
            now = path.stat() if path.exists() else None
            if set(os.listdir(folder)) != names or _sig(now) != _sig(first):
                proc.send_signal(signal.SIGINT)
                return
            time.sleep(0.002)

    return during


def _delete_folder_mid_sweep(folder: Path, proc: subprocess.Popen) -> None:
    store = folder / "gone" / "del.sqlite"
    while proc.poll() is None:
        try:
            if _rows(store, "SELECT count(*) FROM runs WHERE status = 'done'")[0][0] >= 2:
                shutil.rmtree(folder / "gone")
                return
        except sqlite3.Error:
            pass
        time.sleep(0.05)


def _reader(folder: Path, env: dict) -> list:
    """A reader holding a transaction on w.sqlite (after a first sweep made it)."""
    _cli(folder, env, "sweep", "dmg.yaml", "--store", "w.sqlite", "--no-progress")
    code = (
        "import sqlite3, time; c = sqlite3.connect('w.sqlite', isolation_level=None)\n"
        "c.execute('BEGIN'); n = c.execute('select count(*) from runs').fetchone()[0]\n"
        "print('reader sees', n, flush=True); time.sleep(600)"
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", code], cwd=folder, stdout=subprocess.PIPE, text=True
    )
    reader.stdout.readline()

    def stop() -> None:
        reader.kill()
        reader.wait()

    return [stop]


def _wal_reported(folder, proc, before, after):
    if "-wal" in proc.stderr:
        return None
    copy = folder / "wcopy.sqlite"
    shutil.copy(folder / "w.sqlite", copy)
    n = _rows(copy, "SELECT count(*) FROM runs")[0][0]
    if n != 4:
        return "silent", f"no warning, and a copy of w.sqlite alone holds {n} of 4 runs"
    return None


def _only_under(prefix: str) -> Verify:
    def verify(folder, proc, before, after):
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        outside = [p for p in changed if not p.startswith(prefix)]
        if outside:
            return "other", f"wrote outside {prefix}: {', '.join(outside)}"
        return None

    return verify


def _escaped_summary(folder, proc, before, after):
    text = (folder / "x14rep" / "summary.md").read_text()
    if "<img" in text or "<script" in text:
        return "other", f"raw HTML in summary.md: {text.splitlines()[0][:80]}"
    return None


def _saved_params(folder, proc, before, after):
    saved = list((folder / "saved").glob("*.npz")) if (folder / "saved").is_dir() else []
    if len(saved) != 1:
        return "silent", f"{len(saved)} parameter files in saved/, expected 1"
    return None


def _quiet(folder, proc, before, after):
    if proc.stderr.strip():
        return "other", f"stderr under -q: {proc.stderr.strip().splitlines()[0]}"
    return None


def _still_gone(folder, proc, before, after):
    if (folder / "gone").exists():
        return "other", "the deleted folder was made again"
    return None


def cases_audit2() -> list[Case]:
    out: list[Case] = []
    s = {"s.yaml": SWEEP}

    # 6: damaged mid-run checkpoints (real trainer: the fake one keeps no checkpoints)
    for kind, damage in CHECKPOINT_DAMAGE.items():

        def prep(folder, env, damage=damage):
            damage(_population_file(folder, env, "dmg.yaml", "d.sqlite"))
            return []

        out.append(
            Case(
                f"sweep with a checkpoint that is a {kind}",
                ["sweep", "dmg.yaml", "--store", "d.sqlite", "--no-progress"],
                files={"dmg.yaml": DMG_YAML},
                expect=0,
                says="checkpoint",
                section="2 #6",
                real=True,
                prep=prep,
                verify=_done("d.sqlite", 1),
                rlimit_as=6_000_000 * 1024 if "4 GiB" in kind else None,
            )
        )
    # 7: forged checkpoints, from public inputs only
    forge_yaml = "name: forge\nbase: {dataset: digits, layers: 1, units: 8, epochs: 2}\nseeds: 1\n"
    for how, label in [("npz", "the audit's .npz"), ("signed", "signed with a guessed secret")]:
        out.append(
            Case(
                f"sweep with a forged checkpoint ({label})",
                ["sweep", "forge.yaml", "--store", "forge.sqlite", "--no-progress"],
                files={"forge.yaml": forge_yaml},
                expect=0,
                says="refused",
                section="2 #7",
                real=True,
                prep=lambda folder, env, how=how: [
                    _py(folder, env, FORGE.replace("sys.argv[1]", repr(how)))
                ][:0],
                verify=_not_forged,
            )
        )
    # 16: options no run uses are refused; the four that do take effect are accepted
    for opt in [
        "--ema-decay 0.5",
        "--loo-samples 7",
        "--epsilon 0.9",
        "--epsilon-schedule decay",
        "--num-actions 5",
        "--value-map unit",
        "--unit-std 3",
        "--difficulty 0.7",
        "--num-means 3",
        "--batches-per-mean 3",
        "--num-evals 3",
        "--explore-resample epoch",
        "--finetune-optimizer adam",
        "--finetune-lr-scale 0.5",
        "--activation tanh",
        "--staged",
    ]:
        out.append(
            Case(
                f"train {opt} where no run uses it",
                [
                    "train",
                    "--units",
                    "8",
                    "--epochs",
                    "1",
                    "--seeds",
                    "1",
                    "--json",
                    "-q",
                    *opt.split(),
                ],
                section="2 #16",
                says=opt.split()[0],
            )
        )
    for opt in ["--normalize", "--split-seed 5", "--input-range unit", "--clip-norm 1e-9"]:
        out.append(
            Case(
                f"train {opt} (used)",
                [
                    "train",
                    "--units",
                    "8",
                    "--epochs",
                    "1",
                    "--seeds",
                    "1",
                    "--json",
                    "-q",
                    *opt.split(),
                ],
                section="2 #16",
                expect=0,
                check='"test/loss"',
                real=True,
            )
        )
    # 17: the Python API
    out.append(
        _api(
            "register_dataset NaN inputs",
            "xn = x.copy(); xn[:, 0] = np.nan; cn.register_dataset('bad', xn, y)",
            "DataError",
        )
    )
    out.append(
        _api(
            "register_dataset inf inputs",
            "xn = x.copy(); xn[0, 0] = np.inf; cn.register_dataset('bad', xn, y)",
            "DataError",
        )
    )
    out.append(
        _api(
            "register_dataset 100 inputs, 90 labels",
            "cn.register_dataset('short', x, y[:90])",
            "DataError",
        )
    )
    out.append(
        _api(
            "register_dataset label -1", "y[0] = -1; cn.register_dataset('neg', x, y)", "DataError"
        )
    )
    for seed in ["-1", "1.5", "True", "'3'", "2**40"]:
        out.append(_api(f"train seed={seed}", f"cn.train(cfg, seed={seed})", "ConfigError"))
    out.append(
        _api(
            "train_population seeds [0, True]",
            "cn.train_population([cfg, cfg], [0, True])",
            "ConfigError",
        )
    )
    out.append(_api("train seed=1 (valid)", "cn.train(cfg, seed=1)", "ConfigError", expect=0))

    # 1: export --out onto another store
    out.append(
        Case(
            "export --out onto another store",
            ["export", STORE, "--out", "b.sqlite"],
            files=s,
            store=STORE,
            prep=lambda folder, env: [shutil.copy(folder / STORE, folder / "b.sqlite")][:0],
            protect=[STORE, "b.sqlite"],
            section="2 #1",
        )
    )
    # 2: --save-params (train has its own --save-params DIR now, with or without --store)
    params = ["train", "--units", "8", "--epochs", "1", "--seeds", "1", "--save-params"]
    out.append(
        Case(
            "train --save-params without a folder",
            params,
            says="coagentnet train: error",
            forbid="coagentnet coagentnet",
            section="2 #2",
        )
    )
    out.append(
        Case(
            "train --save-params DIR",
            [*params, "saved"],
            expect=0,
            real=True,
            section="2 #2",
            verify=_saved_params,
        )
    )
    out.append(
        Case(
            "train --save-params DIR --store",
            [*params, "saved", "--store", "p.sqlite"],
            expect=0,
            real=True,
            section="2 #2",
            verify=_saved_params,
        )
    )
    p3 = "name: p\nbase: {dataset: digits, layers: 1, units: 8, epochs: 1}\nseeds: 3\n"
    for label, first in [("2 of 3 runs", p3.replace("seeds: 3", "seeds: 2")), ("all runs", p3)]:
        out.append(
            Case(
                f"sweep --save-params, {label} already complete",
                ["sweep", "p.yaml", "--store", "p.sqlite", "--save-params", "--no-progress"],
                files={"p.yaml": p3, "first.yaml": first},
                expect=0,
                says="parameters were not saved",
                section="2 #2",
                prep=lambda folder, env: [
                    _cli(folder, env, "sweep", "first.yaml", "--store", "p.sqlite", "--no-progress")
                ][:0],
            )
        )
    # 3: a reader holds a transaction during a sweep
    out.append(
        Case(
            "sweep while a reader holds the WAL",
            ["sweep", "more.yaml", "--store", "w.sqlite", "--no-progress"],
            files={"dmg.yaml": DMG_YAML, "more.yaml": MORE_YAML},
            expect=0,
            section="2 #3",
            prep=_reader,
            verify=_wal_reported,
        )
    )
    # 4: the store's folder deleted mid-sweep
    out.append(
        Case(
            "sweep whose store folder is deleted mid-sweep",
            [
                "sweep",
                "del.yaml",
                "--store",
                "gone/del.sqlite",
                "--max-population",
                "1",
                "--no-progress",
            ],
            files={"del.yaml": "name: del\nbase: {units: 4, layers: 1, epochs: 1}\nseeds: 8\n"},
            env={"SWEEP_FAKE_SLEEP": "0.5"},
            expect=2,
            one_line=False,
            says="deleted or replaced",
            section="2 #4",
            during=_delete_folder_mid_sweep,
            verify=_still_gone,
        )
    )
    # 5: Ctrl-C while export writes
    out.append(
        Case(
            "Ctrl-C during export over a previous export",
            ["export", BIG_STORE, "--out", "i.csv"],
            store=BIG_STORE,
            expect=130,
            says="interrupted",
            section="2 #5",
            prep=lambda folder, env: [_cli(folder, env, "export", BIG_STORE, "--out", "i.csv")][:0],
            protect=[BIG_STORE, "i.csv", "i.runs.csv"],
            during=_interrupt_on_write("i.csv"),
        )
    )
    out.append(
        Case(
            "Ctrl-C during export to a fresh path",
            ["export", BIG_STORE, "--out", "i.csv"],
            store=BIG_STORE,
            expect=130,
            says="interrupted",
            section="2 #5",
            during=_interrupt_on_write("i.csv"),
        )
    )
    # 8-10: sweep files
    bomb = "name: bomb\nbase:\n  units:\n    - &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"    - &{b} [{', '.join(['*' + a] * 10)}]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    out.append(
        Case(
            "sweep YAML alias bomb --dry-run",
            ["sweep", "bomb.yaml", "--dry-run"],
            files={"bomb.yaml": bomb},
            rlimit_as=4_000_000 * 1024,
            section="2 #8",
        )
    )
    deep = "name: deep\ndescription: " + "[" * 10000 + "]" * 10000 + "\n"
    deep2 = "name: deep2\nbase: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"
    out.append(
        Case(
            "sweep 10000 nested lists --dry-run",
            ["sweep", "deep.yaml", "--dry-run"],
            files={"deep.yaml": deep},
            section="2 #9",
        )
    )
    out.append(
        Case(
            "status 3000 nested mappings",
            ["status", "deep2.yaml"],
            files={"deep2.yaml": deep2},
            section="2 #9",
        )
    )
    for argv in (
        ["sweep", "/dev/zero", "--dry-run"],
        ["status", "/dev/zero"],
        ["export", "/dev/zero"],
        ["sweep", "/dev/urandom", "--dry-run"],
    ):
        out.append(Case(" ".join(argv), argv, rlimit_as=4_000_000 * 1024, section="2 #10"))
    # 11: merge keys (valid YAML), names with spaces
    merge = (
        "name: merge\nbase:\n  <<: {dataset: digits, layers: 1}\n  units: 8\n  epochs: 1\n"
        "seeds: 1\n"
    )
    merge2 = (
        "name: merge2\npresets:\n  quick:\n    base: &common {dataset: digits, layers: 1, "
        "units: 8, epochs: 1}\n  long:\n    base:\n      <<: *common\n      epochs: 3\n"
        "seeds: 1\n"
    )
    out.append(
        Case(
            "sweep YAML merge key --dry-run",
            ["sweep", "merge.yaml", "--dry-run"],
            files={"merge.yaml": merge},
            expect=0,
            section="2 #11",
        )
    )
    out.append(
        Case(
            "sweep YAML anchor + merge key in a preset --dry-run",
            ["sweep", "merge2.yaml", "--preset", "long", "--dry-run"],
            files={"merge2.yaml": merge2},
            expect=0,
            section="2 #11",
        )
    )
    out.append(
        Case(
            "sweep name with a space, --store given --dry-run",
            ["sweep", "spaces.yaml", "--store", "s2.sqlite", "--dry-run"],
            files={"spaces.yaml": 'name: "my sweep"\nbase: {units: 8, epochs: 1}\n'},
            # refused by design (the audit's heading): an explicit name is the store's file
            # name and the runs' sweep name; the audit's alternative, a safe name derived from
            # the stem, is what the next case checks
            says="expected a word",
            section="2 #11",
        )
    )
    out.append(
        Case(
            "sweep file stem with a space, no name --dry-run",
            ["sweep", "my sweep2.yaml", "--dry-run"],
            files={"my sweep2.yaml": TINY_YAML.replace("name: tiny\n", "")},
            expect=0,
            section="2 #11",
        )
    )
    # 12: resource knobs past the memory pre-check
    four_gb, six_gb = 4_000_000 * 1024, 6_000_000 * 1024
    knobs = [
        (
            "COAGENTNET_MEMBER_TILE=100000000",
            ["train", "--units", "8", "--epochs", "1", "--seeds", "1"],
            {"COAGENTNET_MEMBER_TILE": "100000000"},
            four_gb,
        ),
        (
            "--loo-samples 1000000",
            [
                "train",
                "--units",
                "8",
                "--epochs",
                "1",
                "--seeds",
                "1",
                "--baseline",
                "loo",
                "--loo-samples",
                "1000000",
            ],
            {},
            four_gb,
        ),
        (
            "--grad-diagnostics 1000000",
            [
                "train",
                "--units",
                "8",
                "--epochs",
                "1",
                "--seeds",
                "1",
                "--grad-diagnostics",
                "1000000",
            ],
            {},
            four_gb,
        ),
        (
            "diagnose --samples 10000000",
            ["diagnose", "--units", "8", "--samples", "10000000"],
            {},
            four_gb,
        ),
        (
            "correlated --num-means 2000000000",
            [
                "train",
                "--dataset",
                "correlated",
                "--units",
                "8",
                "--seeds",
                "1",
                "--epochs",
                "1",
                "--num-means",
                "2000000000",
                "--batches-per-mean",
                "1000",
                "--num-evals",
                "1000",
            ],
            {},
            six_gb,
        ),
    ]
    for label, argv, env, limit in knobs:
        out.append(
            Case(
                f"{argv[0]} {label}",
                argv,
                env=env,
                rlimit_as=limit,
                section="2 #12",
                says="num_means"
                if "correlated" in label
                else "MiB"
                if "diagnose" not in label
                else None,
            )
        )
    # 13: damaged fields
    fields = {
        "versions '{'": ("UPDATE runs SET versions = '{' WHERE rowid = 1", ["report"], 2),
        'config \'{"units": "x"}\'': (
            """UPDATE runs SET config = '{"units": "x"}' WHERE rowid = 1""",
            ["export", "report"],
            None,
        ),
        "config '{'": ("UPDATE runs SET config = '{' WHERE rowid = 1", ["export", "report"], 2),
        "config '[]'": ("UPDATE runs SET config = '[]' WHERE rowid = 1", ["export", "report"], 2),
        "final '{'": ("UPDATE runs SET final = '{' WHERE rowid = 1", ["export", "report"], 2),
        "final '[1,2]'": (
            "UPDATE runs SET final = '[1,2]' WHERE rowid = 1",
            ["export", "report"],
            2,
        ),
        "seed 'x'": ("UPDATE runs SET seed = 'x' WHERE rowid = 1", ["export", "report"], None),
        "updates 'abc'": (
            "UPDATE runs SET updates = 'abc' WHERE rowid = 1",
            ["export", "report"],
            None,
        ),
        "wall_time_s 'x'": (
            "UPDATE runs SET wall_time_s = 'x' WHERE rowid = 1",
            ["export", "report"],
            None,
        ),
        "error x'ff'": (
            "UPDATE runs SET error = x'ff' WHERE rowid = 1",
            ["export", "report"],
            None,
        ),
    }
    for label, (sql, verbs, expect) in fields.items():
        for verb in verbs:
            argv = [verb, STORE, "--out", "dd.csv" if verb == "export" else "ddrep"]
            out.append(
                Case(
                    f"{verb} store with {label}",
                    argv,
                    files=s,
                    store=STORE,
                    damage=sql,
                    expect=expect,
                    section="2 #13",
                    says="damaged" if expect == 2 else None,
                )
            )
    # 13: read-only store file (chattr +i)
    ro = lambda folder, env: _chattr(folder / "ro.sqlite")  # noqa: E731
    for label, argv, expect in [
        ("sweep", ["sweep", "more.yaml", "--store", "ro.sqlite", "--no-progress"], 2),
        ("train --store", ["train", *TINY, "--store", "ro.sqlite"], 2),
        ("status", ["status", "ro.sqlite"], 0),
        ("export", ["export", "ro.sqlite", "--out", "e.csv"], 0),
        ("report", ["report", "ro.sqlite", "--out", "rep"], 0),
    ]:
        out.append(
            Case(
                f"{label} on a read-only (chattr +i) store",
                argv,
                files={"more.yaml": MORE_YAML},
                store="ro.sqlite",
                expect=expect,
                says="ro.sqlite" if expect else None,
                forbid="not a coagentnet",
                prep=ro,
                root="chattr",
                section="2 #13",
            )
        )

    # 13: a store in a read-only folder (tmpfs remounted read-only)
    def ro_mount(folder, env):
        undo = _mount(folder / "mnt", "1m")
        shutil.copy(folder / STORE, folder / "mnt" / "ro.sqlite")
        _sh("mount", "-o", "remount,ro", str(folder / "mnt"))
        return undo

    for label, argv, expect in [
        ("report", ["report", "mnt/ro.sqlite", "--out", "roMrep"], 0),
        ("status", ["status", "mnt/ro.sqlite"], 0),
        ("export", ["export", "mnt/ro.sqlite", "--out", "e.csv"], 0),
        ("sweep", ["sweep", "more.yaml", "--store", "mnt/ro.sqlite", "--no-progress"], 2),
    ]:
        out.append(
            Case(
                f"{label} on a store in a read-only folder",
                argv,
                files={"more.yaml": MORE_YAML},
                store=STORE,
                expect=expect,
                says="ro.sqlite" if expect else None,
                forbid="not a coagentnet",
                prep=ro_mount,
                root="mount",
                section="2 #13",
                protect=[],
            )
        )
    # 13: a full disk (small tmpfs)
    full = lambda size: lambda folder, env: _mount(folder / "mnt", size)  # noqa: E731
    out.append(
        Case(
            "export onto a full disk",
            ["export", BIG_STORE, "--out", "mnt/x.csv"],
            store=BIG_STORE,
            prep=full("256k"),
            root="mount",
            section="2 #13",
            says="x.csv",
        )
    )
    out.append(
        Case(
            "report onto a full disk",
            ["report", STORE, "--out", "mnt/rep"],
            files=s,
            store=STORE,
            prep=full("20k"),
            root="mount",
            section="2 #13",
            says="mnt",
        )
    )
    out.append(
        Case(
            "train --store onto a full disk",
            ["train", *TINY, "--store", "mnt/tr.sqlite"],
            prep=full("20k"),
            root="mount",
            section="2 #13",
            says="tr.sqlite",
            forbid="not a coagentnet",
            real=True,
        )
    )
    out.append(
        Case(
            "sweep --store onto a full disk",
            ["sweep", "s.yaml", "--store", "mnt/full.sqlite", "--no-progress"],
            files=s,
            prep=full("64k"),
            root="mount",
            section="2 #13",
            says="full.sqlite",
            forbid="not a coagentnet",
            one_line=False,
        )
    )
    # 14: HTML in the store's file name and the title
    odd = "x14/<img src=x onerror=alert(1)>.sqlite"
    out.append(
        Case(
            "report of a store named <img ...> --title <script>",
            ["report", odd, "--out", "x14rep", "--title", "<script>alert(2)</script>"],
            files=s,
            store=odd,
            expect=0,
            section="2 #14",
            verify=_escaped_summary,
        )
    )

    # 15: outputs that are symbolic links
    def link(at: str, to: str, victim: str):
        def prep(folder, env):
            (folder / victim).parent.mkdir(parents=True, exist_ok=True)
            (folder / victim).write_text("precious notes\n")
            (folder / at).parent.mkdir(parents=True, exist_ok=True)
            (folder / at).symlink_to(to)
            return []

        return prep

    out.append(
        Case(
            "export --out a symlink to another file",
            ["export", STORE, "--out", "out.csv"],
            files=s,
            store=STORE,
            prep=link("out.csv", "elsewhere/notes.txt", "elsewhere/notes.txt"),
            protect=[STORE, "elsewhere/notes.txt"],
            section="2 #15",
        )
    )
    out.append(
        Case(
            "report --out DIR whose report.html is a symlink",
            ["report", STORE, "--out", "r15"],
            files=s,
            store=STORE,
            prep=link("r15/report.html", "../elsewhere/victim.html", "elsewhere/victim.html"),
            protect=[STORE, "elsewhere/victim.html"],
            section="2 #15",
        )
    )
    # extra findings
    out.append(
        Case(
            "report --out DIR writes only under DIR",
            ["report", STORE, "--out", "ddrep"],
            files=s,
            store=STORE,
            expect=0,
            section="2 extra",
            verify=_only_under("ddrep/"),
        )
    )
    for verb in ("train", "sweep", "status", "export", "report", "diagnose"):
        out.append(
            Case(
                f"{verb} --bogus",
                [verb, "--bogus"],
                says=f"coagentnet {verb}: error",
                forbid="coagentnet coagentnet",
                section="2 extra",
            )
        )
    out.append(
        Case(
            "sweep -q prints nothing on success",
            ["sweep", "s.yaml", "--store", "q.sqlite", "-q", "--no-progress"],
            files=s,
            expect=0,
            section="2 extra",
            verify=_quiet,
        )
    )
    return out


def _truncated_idx() -> dict[str, bytes]:
    files = {}
    for stem, magic, shape in [
        ("train-images-idx3-ubyte", 0x803, (120, 2, 2)),
        ("train-labels-idx1-ubyte", 0x801, (120,)),
        ("t10k-images-idx3-ubyte", 0x803, (20, 2, 2)),
        ("t10k-labels-idx1-ubyte", 0x801, (20,)),
    ]:
        header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in shape)
        count = 1
        for d in shape:
            count *= d
        body = bytes(i % 10 for i in range(count))
        if stem.startswith("train-images"):
            body = body[: len(body) // 2]
        files[f"data/mnist/{stem}.gz"] = gzip.compress(header + body)
    return files


def _env(src: Path, extra: dict, real: bool = False) -> dict:
    env = dict(os.environ, COAGENTNET_CPU_DEVICES="1", COAGENTNET_OFFLINE="1")
    env["COAGENTNET_TRAINER"] = "sweep_fakes:train_population"
    if real:
        del env["COAGENTNET_TRAINER"]
    env["PYTHONPATH"] = os.pathsep.join([str(src), str(ROOT / "tests")])
    env.update(extra)
    return env


def _snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.name.endswith(("-wal", "-shm")):
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _damage(store: Path, how: str) -> None:
    if how == "junk":
        data = bytearray(store.read_bytes())
        data[100:] = bytes((i * 7919) % 256 for i in range(len(data) - 100))
        store.write_bytes(bytes(data))
    else:
        db = sqlite3.connect(store)
        db.execute(how)
        db.commit()
        db.close()


_ROOT_TOOLS: dict[str, str | None] = {}
_ROOT_LOCK = threading.Lock()


def root_unavailable(tool: str) -> str | None:
    """Why ``chattr +i`` or a tmpfs mount cannot be used here (None: it can); tried once."""
    with _ROOT_LOCK:
        if tool not in _ROOT_TOOLS:
            _ROOT_TOOLS[tool] = _try_root(tool)
        return _ROOT_TOOLS[tool]


def _try_root(tool: str) -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    with tempfile.TemporaryDirectory(prefix="coagentnet-audit-probe-") as tmp:
        probe = Path(tmp) / "probe"
        try:
            if tool == "chattr":
                probe.write_text("x")
                for undo in _chattr(probe):
                    undo()
            else:
                for undo in _mount(probe, "64k"):
                    undo()
        except (OSError, subprocess.CalledProcessError) as err:
            text = getattr(err, "stderr", b"") or str(err).encode()
            return f"{tool} not permitted here: {text.decode(errors='replace').strip()[:80]}"
    return None


def _limit(nbytes: int | None):
    if nbytes is None:
        return None
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (nbytes, nbytes))


def _folder_name(case: Case, index: int) -> str:
    return f"{index:03d}-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", case.name)[:60]


def run_case(
    case: Case, index: int, src: Path, templates: dict[str, Path], work: Path
) -> tuple[str, str]:
    if case.root and (why := root_unavailable(case.root)):
        return "skipped", why
    folder = work / _folder_name(case, index)
    folder.mkdir(parents=True)
    undo: list = []
    try:
        return _run_case(case, src, templates, folder, undo)
    except Exception as err:  # noqa: BLE001 (a broken case is reported, not fatal)
        return "other", f"harness: {type(err).__name__}: {err}"[:300]
    finally:
        for step in reversed(undo):
            try:
                step()
            except Exception as err:  # noqa: BLE001
                print(f"audit: could not undo a step of {case.name!r}: {err}", file=sys.stderr)


def _run_case(
    case: Case, src: Path, templates: dict[str, Path], folder: Path, undo: list
) -> tuple[str, str]:
    env = _env(src, case.env, case.real)
    for rel, body in case.files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body) if isinstance(body, bytes) else path.write_text(body)
    if case.store:
        (folder / case.store).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(templates.get(case.store, templates[STORE]), folder / case.store)
        if case.damage:
            _damage(folder / case.store, case.damage)
    elif case.damage == "foreign":
        db = sqlite3.connect(folder / "x.sqlite")
        db.execute("CREATE TABLE photos(name TEXT)")
        db.commit()
        db.close()
    if case.prep:
        undo.extend(case.prep(folder, env) or [])
    before = _snapshot(folder)
    if case.python is not None:
        cmd = [sys.executable, "-c", case.python]
    else:
        cmd = [sys.executable, "-m", "coagentnet.cli", *case.argv]
    timeout = case.timeout or (REAL_TIMEOUT_S if case.real else TIMEOUT_S)
    proc = subprocess.Popen(
        cmd,
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        preexec_fn=_limit(case.rlimit_as),
    )
    helper = None
    if case.during:
        helper = threading.Thread(target=case.during, args=(folder, proc), daemon=True)
        helper.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return "other", f"hang (> {timeout} s)"
    if helper:
        helper.join(timeout=10)
    done = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    after = _snapshot(folder)
    return classify(case, done, before, after, folder)


def classify(case: Case, proc, before: dict, after: dict, folder: Path) -> tuple[str, str]:
    err = proc.stderr
    protect = case.protect
    if protect is None:
        protect = [case.store] if case.store and not case.damage else []
    for rel in protect:
        if after.get(rel) != before.get(rel):
            return "lost", f"{rel} was changed or removed"
    if "Traceback" in err:
        return "traceback", err.strip().splitlines()[-1]
    last = err.strip().splitlines()[-1] if err.strip() else ""
    if case.forbid and case.forbid in err:
        return "other", f"stderr says {case.forbid!r}: {last}"
    expect = case.expect
    if expect is None:  # accepted, or a clean refusal: either is fine
        expect = 0 if proc.returncode == 0 else 2
    if expect in (0, 130):
        if proc.returncode != expect:
            kind = "silent" if proc.returncode == 0 else "other"
            return kind, f"exit {proc.returncode}, expected {expect}: {last}"
        if case.check and case.check not in proc.stdout:
            return "silent", f"expected {case.check!r}: {proc.stdout.strip()[:120]}"
        if case.says and case.says not in err:
            return "silent", f"stderr does not say {case.says!r}: {last}"
        if case.verify and (bad := case.verify(folder, proc, before, after)):
            return bad
        if expect == 130:
            changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
            if changed:
                return "other", f"interrupted, but left {', '.join(changed)}"
        return "clean", f"exit {expect}" + (f": {last}" if last else "")
    if proc.returncode == 0:
        return "silent", "accepted (exit 0)"
    if proc.returncode != 2:
        return "other", f"exit {proc.returncode}: {last}"
    if case.one_line and err.count("\n") != 1:
        return "other", f"{err.count(chr(10))} lines: {last}"
    if case.says and case.says not in last:
        return "other", f"refused without saying {case.says!r}: {last}"
    if case.verify and (bad := case.verify(folder, proc, before, after)):
        return bad
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    if changed:
        return "other", f"refused, but wrote {', '.join(changed)}"
    return "clean", last


def _template(work: Path, src: Path, name: str, sweep: str, store: str) -> Path:
    seed = work / f"_template_{name}"
    seed.mkdir()
    (seed / "f.yaml").write_text(sweep)
    _cli(seed, _env(src, {}), "sweep", "f.yaml", "--store", store, "--no-progress")
    return seed / store


def _markdown(rows: list[tuple[Case, str, str]], summary: str) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")

    def expected(case: Case) -> str:
        if case.expect is None:
            return "exit 0 or a one-line refusal"
        return {0: "exit 0", 2: "one-line refusal (exit 2)", 130: "interrupted (exit 130)"}[
            case.expect
        ] + (f", says {case.says!r}" if case.says else "")

    lines = [
        "# Replay of the input audits (`scripts/audit.py`)",
        "",
        "Generated by `python scripts/audit.py --out docs/audit-2-replay.md`; the outcome kinds",
        "are defined in the script's docstring. Section `issue 16` is the first audit;",
        "`2 #N` is section N of input audit 2.",
        "",
        f"**{summary}**",
        "",
        "| # | section | case | expected | outcome | detail |",
        "|---|---|---|---|---|---|",
    ]
    for i, (case, kind, detail) in enumerate(rows, 1):
        lines.append(
            f"| {i} | {case.section} | {cell(case.name)} | {cell(expected(case))} | {kind} "
            f"| {cell(detail[:160])} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="source tree to measure")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--only", default=None, help="run only cases whose name has this text")
    parser.add_argument("--out", default=None, help="write the per-case table (Markdown) here")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    args = parser.parse_args()
    src = Path(args.src).resolve()
    all_cases = cases_audit2() + cases_audit1()  # the slow (real-trainer) cases first
    if args.only:
        all_cases = [c for c in all_cases if args.only in c.name]
    with tempfile.TemporaryDirectory(prefix="coagentnet-audit-") as tmp:
        work = Path(tmp)
        templates = {
            STORE: _template(work, src, "s", SWEEP, STORE),
            BIG_STORE: _template(work, src, "big", BIG_YAML, BIG_STORE),
        }

        def one(item):
            index, case = item
            started = time.monotonic()
            kind, detail = run_case(case, index, src, templates, work)
            if args.verbose:
                took = time.monotonic() - started
                print(f"{kind:9}  {case.name} ({took:.0f} s): {detail}", flush=True)
            return kind, detail

        with cf.ThreadPoolExecutor(args.jobs) as pool:
            outcomes = list(pool.map(one, enumerate(all_cases)))
    tally = Counter(kind for kind, _ in outcomes)
    tried = len(all_cases) - tally["skipped"]
    summary = f"tried {tried}: " + ", ".join(f"{k} {tally[k]}" for k in KINDS)
    if tally["skipped"]:
        summary += f"; skipped {tally['skipped']}"
    if args.out:
        rows = [(c, k, d) for c, (k, d) in zip(all_cases, outcomes, strict=True)]
        Path(args.out).write_text(_markdown(rows, summary))
    if args.verbose:
        for case, (kind, detail) in zip(all_cases, outcomes, strict=True):
            if kind != "clean":
                print(f"NOT CLEAN {kind:9}  {case.name}: {detail}")
    print(summary)
    return 0 if tally["clean"] == tried else 1


if __name__ == "__main__":
    sys.exit(main())
