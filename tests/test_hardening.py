"""Bad input from the adversarial audit (issue 16): each is refused before any work with exit 2,
one stderr line naming the option, field or file, and nothing created or changed on disk."""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coagentnet.cli import main
from coagentnet.sweeps import sweepfile
from conftest import refused

TESTS = str(Path(__file__).parent)
FAKE = "sweep_fakes:train_population"
TINY = ["--dataset", "digits", "--layers", "1", "--units", "4", "--epochs", "1", "--seeds", "1"]


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COAGENTNET_TRAINER", FAKE)
    return tmp_path


def sweep_file(root: Path, text: str, name: str = "s.yaml") -> str:
    path = root / name
    path.write_text(text)
    return str(path)


# --- train: values that are accepted silently or hang ------------------------------------


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--lr", "inf"], "--lr: expected a finite number, got 'inf'"),
        (["--lr", "1e400"], "--lr: '1e400': outside float32's range"),
        (["--lr", "nan"], "--lr: expected a finite number, got 'nan'"),
        (["--unit-std", "inf"], "--unit-std: expected a finite number, got 'inf'"),
        (
            ["--rule", "actor_critic", "--critic-ratio", "inf"],
            "--critic-ratio: expected a finite number, got 'inf'",
        ),
        (["--first-seed", "99999999999999999999999"], "--first-seed: must be in [0, "),
        (["--first-seed", "-1"], "--first-seed: must be in [0, "),
        (["--first-seed", "4294967295", "--seeds", "2"], "--seeds: seeds 4294967295..4294967296"),
        (["--units", "1000000000"], "units/layers: one network of 1 x 1000000000 units"),
        (["--layers", "1000000"], "units/layers: one network of 1000000 x"),
        (["--units", "99999999999"], "units: must be at most"),
        (["--split-seed", "-1"], "split_seed: must be in [0, "),
        (["--data-dir", "."], "data_dir: 'digits' is not read from files"),
        (["--lr", "0.1,,0.2"], "--lr: '': expected a number or 2^k"),
    ],
)
def test_train_refuses_bad_values(here, capsys, extra, needle):
    # later options win in argparse, so TINY's values are overridden by extra
    refused(capsys, ["train", *TINY, *extra], needle, here)


def test_train_refuses_units_by_the_estimate(here, capsys, monkeypatch):
    # Refused by the size estimate: no network is ever initialised (nothing allocated).
    import coagentnet.model.network as network

    def allocating(*args, **kwargs):
        raise AssertionError("a network was initialised before the refusal")

    monkeypatch.setattr(network, "init_network", allocating)
    refused(capsys, ["train", *TINY, "--units", "1000000000"], "units/layers", here)


def test_data_dir_never_falls_back(here, capsys):
    missing = str(here / "nowhere")
    refused(
        capsys,
        ["train", *TINY, "--dataset", "fashion-mnist", "--data-dir", missing],
        f"data_dir: {missing} is not a folder",
        here,
    )
    (here / "empty").mkdir()
    refused(
        capsys,
        ["train", *TINY, "--dataset", "fashion-mnist", "--data-dir", "empty"],
        "data_dir: no fashion-mnist IDX files",
        here,
    )


# --- sweep files ----------------------------------------------------------------------------

SWEEP_BAD = {
    "inf lr": ("base: {lr: .inf}\n", "base.lr: must be a finite number"),
    "nan memory": ("population: {memory_mb: .nan}\n", "population.memory_mb: expected a finite"),
    "inf memory": ("population: {memory_mb: .inf}\n", "population.memory_mb: expected a finite"),
    "pow2 overflow": ("grid:\n  lr: {pow2: [1020, 1030]}\n", "grid.lr.pow2[1]: exponent must"),
    "many seeds": ("seeds: 1000000000\n", "seeds: 1,000,000,000 seeds exceed the limit"),
    "huge seed": ("seeds: [18446744073709551616]\n", "seeds[0]: expected an int in [0, "),
    "negative split seed": ("base: {split_seed: -1}\n", "base.split_seed: must be in [0, "),
    "huge units": ("base: {units: 1000000000}\n", "units/layers: one network"),
    "duplicate key": ("base:\n  lr: 0.1\n  lr: 0.2\n", "line 3 invalid YAML: duplicate key 'lr'"),
    "batch too big": ("base: {batch_size: 100000}\n", "batch_size: 100000 exceeds the digits"),
    "million runs": (
        "grid:\n  lr: {pow2: [-500, 499]}\n  units: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nseeds: 100\n",
        "sweep: 1,000,000 runs (grid points x seeds) exceed the limit",
    ),
    "bad value in unchosen preset": (
        "presets:\n  paper:\n    base: {units: -3}\n",
        "presets.paper: base.units: must be > 0",
    ),
    "bad grid value in unchosen preset": (
        "grid: {lr: [0.1]}\npresets:\n  paper:\n    grid: {lr: [0.1, .inf]}\n",
        "presets.paper: grid.lr[1]: must be a finite number",
    ),
    "unknown key in unchosen preset": (
        "presets:\n  paper:\n    base: {unitz: 3}\n",
        "presets.paper: base.unitz: unknown key",
    ),
}


@pytest.mark.parametrize("case", sorted(SWEEP_BAD))
@pytest.mark.parametrize("dry", [False, True])
def test_sweep_refuses_before_the_store(here, capsys, monkeypatch, case, dry):
    text, needle = SWEEP_BAD[case]
    path = sweep_file(here, "base: {units: 4, epochs: 1}\n" + text if "base:" not in text else text)
    planned = []
    real = sweepfile.make_run
    monkeypatch.setattr(sweepfile, "make_run", lambda c, s: planned.append(s) or real(c, s))
    refused(capsys, ["sweep", path, *(["--dry-run"] if dry else [])], needle, here)
    # Counted, not expanded: a refused grid has at most its base run planned.
    assert len(planned) <= 1, len(planned)
    assert not (here / "results").exists()


@pytest.mark.parametrize(
    "blob", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", bytes(range(256))], ids=["png", "bin"]
)
def test_binary_sweep_file(here, capsys, blob):
    path = here / "s.yaml"
    path.write_bytes(blob)
    refused(capsys, ["sweep", str(path)], f"{path}:", here)


def _truncated_idx_dir(root: Path) -> Path:
    folder = root / "data" / "mnist"
    folder.mkdir(parents=True)
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
            body = body[: len(body) // 2]  # truncated
        (folder / f"{stem}.gz").write_bytes(gzip.compress(header + body))
    return root / "data"


def test_sweep_truncated_idx_refused_before_store(here, capsys):
    data = _truncated_idx_dir(here)
    path = sweep_file(here, f"base: {{dataset: mnist, data_dir: {data}, units: 4, epochs: 1}}\n")
    refused(capsys, ["sweep", path], "train-images-idx3-ubyte", here)


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--memory-mb", "nan"], "argument --memory-mb: expected a finite number"),
        (["--memory-mb", "inf"], "argument --memory-mb: expected a finite number"),
        (["--memory-mb", "0"], "argument --memory-mb: must be > 0"),
        (["--workers", "2"], "--workers: only with --backend process or ray"),
        (["--gpus-per-task", "-1", "--backend", "ray"], "argument --gpus-per-task: must be >= 0"),
        (["--cpus-per-task", "0", "--backend", "ray"], "argument --cpus-per-task: must be > 0"),
        (["--gpus-per-task", "1"], "--gpus-per-task: only with --backend ray"),
        (["--store", ""], "--store: empty path"),
        (["--store", "  "], "--store: empty path"),
    ],
)
def test_sweep_refuses_bad_flags(here, capsys, flags, needle):
    path = sweep_file(here, "base: {units: 4, epochs: 1}\n")
    refused(capsys, ["sweep", path, *flags], needle, here)


def test_dry_run_of_the_largest_allowed_grid(here, capsys):
    # Its speed is the benchmark harness's to measure, not a test's.
    path = sweep_file(here, "grid:\n  lr: {pow2: [-1000, -1]}\nseeds: 10\n")
    assert main(["sweep", path, "--dry-run"]) == 0
    assert "10000 runs" in capsys.readouterr().out
    assert not (here / "results").exists()


def test_bad_cpu_devices_variable_is_one_line(tmp_path):
    env = dict(os.environ, COAGENTNET_CPU_DEVICES="abc")
    proc = subprocess.run(
        [sys.executable, "-m", "coagentnet.cli", "train", *TINY],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "coagentnet train: error: COAGENTNET_CPU_DEVICES: expected a whole number, got 'abc'\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_diverged_run_counts_only_its_updates():
    from coagentnet.config import Config
    from coagentnet.training.run import run_population

    good = Config(units=4, epochs=3, optimizer="sgd", lr=2.0**-7)
    ok, bad = run_population([good, good.replace(lr=1e38)], [0, 0])
    assert bad.diverged and not ok.diverged
    assert ok.updates == 99  # 3 epochs of 1079 // 32 updates
    assert bad.updates == max(row[0] for row in bad.metrics) < 99


def test_usage_errors_are_one_line_in_a_real_process(tmp_path):
    # run as ``python -m coagentnet.cli`` the module is __main__: its UsageError is a copy
    (tmp_path / "s.yaml").write_text("base: {units: 4}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "coagentnet.cli", "sweep", "s.yaml", "--workers", "2"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, COAGENTNET_CPU_DEVICES="1"),
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "coagentnet sweep: error: --workers: only with --backend process or ray\n"
