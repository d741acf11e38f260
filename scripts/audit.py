"""Replay the adversarial input audit of issue 16 against the ``coagentnet`` command line.

Each case is a bad (or unusual but valid) input run as a real process in a fresh folder, and
its outcome is classified:

- ``clean``: what was promised: a refusal is exit 2 with one stderr line and nothing created
  or changed; a valid input is exit 0;
- ``traceback``: a Python traceback on stderr;
- ``silent``: a bad input accepted (exit 0), or a damaged run counted as complete;
- ``lost``: a file that held results was changed or removed;
- ``other``: a hang (timeout), a wrong exit code, several lines, or files left behind.

Usage::

    python scripts/audit.py [--src DIR] [--jobs N] [-v]

``--src`` puts another source tree first on ``PYTHONPATH`` (to measure an older version).
Sweeps use the fake trainer of ``tests/sweep_fakes.py``, so the whole audit takes minutes.
Not covered here (see tests/test_interrupts.py and tests/test_store_hardening.py): Ctrl-C and
SIGKILL timing, a full disk, a reader holding the WAL.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import gzip
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--dataset", "digits", "--layers", "1", "--units", "4", "--epochs", "1", "--seeds", "1"]
SWEEP = "name: s\nbase: {units: 4, layers: 1, epochs: 1}\ngrid:\n  lr: [0.01, 0.02, 0.03]\n"
STORE = "results/s.sqlite"
TIMEOUT_S = 60


@dataclass
class Case:
    name: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)  # written before the run
    store: str | None = None  # a finished store copied to this path, then damaged
    damage: str | None = None  # SQL run on that store, or "junk"
    env: dict[str, str] = field(default_factory=dict)
    expect: int = 2
    check: str | None = None  # text the stdout of a valid run must contain


def cases() -> list[Case]:
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


def _env(src: Path, extra: dict) -> dict:
    env = dict(os.environ, COAGENTNET_CPU_DEVICES="1", COAGENTNET_OFFLINE="1")
    env["COAGENTNET_TRAINER"] = "sweep_fakes:train_population"
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


def run_case(case: Case, src: Path, template: Path, work: Path) -> tuple[str, str]:
    folder = work / case.name.replace("/", "_").replace(" ", "_")
    folder.mkdir(parents=True)
    for rel, body in case.files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body) if isinstance(body, bytes) else path.write_text(body)
    if case.store:
        (folder / case.store).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, folder / case.store)
        if case.damage:
            _damage(folder / case.store, case.damage)
    elif case.damage == "foreign":
        db = sqlite3.connect(folder / "x.sqlite")
        db.execute("CREATE TABLE photos(name TEXT)")
        db.commit()
        db.close()
    before = _snapshot(folder)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "coagentnet.cli", *case.argv],
            cwd=folder,
            env=_env(src, case.env),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return "other", f"hang (> {TIMEOUT_S} s)"
    after = _snapshot(folder)
    err = proc.stderr
    if case.store and case.damage is None and after.get(case.store) != before[case.store]:
        return "lost", f"the store {case.store} was changed or removed"
    if "Traceback" in err:
        return "traceback", err.strip().splitlines()[-1]
    last = err.strip().splitlines()[-1] if err.strip() else ""
    if case.expect == 0:
        if proc.returncode != 0:
            return "other", f"valid input refused (exit {proc.returncode}): {last}"
        if case.check and case.check not in proc.stdout:
            return "silent", f"expected {case.check!r}: {proc.stdout.strip()}"
        return "clean", "exit 0"
    if proc.returncode == 0:
        return "silent", "accepted (exit 0)"
    if proc.returncode != 2:
        return "other", f"exit {proc.returncode}: {last}"
    if err.count("\n") != 1:
        return "other", f"{err.count(chr(10))} lines: {last}"
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    if changed:
        return "other", f"refused, but wrote {', '.join(changed)}"
    return "clean", last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="source tree to measure")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    args = parser.parse_args()
    src = Path(args.src).resolve()
    all_cases = cases()
    with tempfile.TemporaryDirectory(prefix="coagentnet-audit-") as tmp:
        work = Path(tmp)
        seed = work / "_template"
        seed.mkdir()
        (seed / "s.yaml").write_text(SWEEP)
        subprocess.run(
            [sys.executable, "-m", "coagentnet.cli", "sweep", "s.yaml", "--no-progress"],
            cwd=seed,
            env=_env(src, {}),
            check=True,
            capture_output=True,
        )
        template = seed / STORE
        with cf.ThreadPoolExecutor(args.jobs) as pool:
            outcomes = list(pool.map(lambda c: run_case(c, src, template, work), all_cases))
    tally = Counter(kind for kind, _ in outcomes)
    if args.verbose:
        for case, (kind, detail) in zip(all_cases, outcomes, strict=True):
            print(f"{kind:9}  {case.name}: {detail}")
    kinds = ("clean", "traceback", "silent", "lost", "other")
    print(f"tried {len(all_cases)}: " + ", ".join(f"{k} {tally[k]}" for k in kinds))
    return 0 if tally["clean"] == len(all_cases) else 1


if __name__ == "__main__":
    sys.exit(main())
