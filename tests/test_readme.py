"""Every fenced python and bash block of README.md runs as written.

Blocks run one by one in a fresh temporary folder (the checkout's ``experiments/`` linked into
it), each in its own process, with this checkout's package importable. Shell blocks find a
``coagentnet`` on PATH that shrinks long work: ``--epochs N`` runs 1 epoch and ``--seeds N`` 1
seed (everything else as written). A block preceded by the line
``<!-- readme-test: not run (why) -->`` is not run; :data:`NOT_RUN` keeps that list short and
explicit. The library block must train a config that learns: its first printed line is the test
accuracy of digits, above chance (0.1).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"<!-- readme-test: not run \((.+)\) -->")
LANGUAGES = {"python": "python", "bash": "bash", "sh": "bash", "shell": "bash"}
#: The first line of every block that is not run (a change to the list is a visible decision).
NOT_RUN = (
    "bash scripts/demo.sh",
    "coagentnet reproduce all --preset quick",
    "coagentnet bench",
)


def blocks() -> list[tuple[int, str, str, str | None]]:
    """``(line, language, code, why not run)`` of every python and shell block."""
    lines = README.read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        fence = re.fullmatch(r"```(\w+)\s*", lines[i])
        if fence:
            end = lines.index("```", i + 1)
            language = LANGUAGES.get(fence.group(1))
            if language:
                marker = MARKER.fullmatch(lines[i - 1].strip()) if i else None
                code = "\n".join(lines[i + 1 : end]) + "\n"
                out.append((i + 1, language, code, marker and marker.group(1)))
            i = end
        i += 1
    return out


BLOCKS = blocks()

SHIM = """#!{python}
import re, sys
from coagentnet.cli import main

SHRINK = {{"--epochs": "1", "--seeds": "1"}}
args = sys.argv[1:]
for i, arg in enumerate(args[:-1]):
    if arg in SHRINK and re.fullmatch(r"\\d+", args[i + 1]):
        args[i + 1] = SHRINK[arg]
sys.argv = ["coagentnet", *args]
sys.exit(main())
"""


def test_the_blocks_not_run_are_the_listed_ones_and_say_why():
    skipped = [code.splitlines()[0].split("#")[0].strip() for *_, code, why in BLOCKS if why]
    assert skipped == list(NOT_RUN)
    assert sum(1 for b in BLOCKS if b[1] == "python") >= 2
    assert sum(1 for b in BLOCKS if b[1] == "bash" and not b[3]) >= 3


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "experiments").symlink_to(ROOT / "experiments")
    bin_dir = tmp_path / ".bin"
    bin_dir.mkdir()
    shim = bin_dir / "coagentnet"
    shim.write_text(SHIM.format(python=sys.executable))
    shim.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return tmp_path, env


@pytest.mark.slow  # every block trains or sweeps something: minutes in all on a 2-core CPU
@pytest.mark.parametrize(
    ("line", "language", "code", "why"),
    [pytest.param(*b, id=f"line{b[0]}-{b[1]}") for b in BLOCKS if not b[3]],
)
def test_a_readme_block_runs_as_written(folder, line, language, code, why):
    cwd, env = folder
    script = cwd / ("block.py" if language == "python" else "block.sh")
    script.write_text(code if language == "python" else "set -euo pipefail\n" + code)
    command = [sys.executable, str(script)] if language == "python" else ["bash", str(script)]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"README line {line}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    if "cn.train(cfg, seed=0)" in code:  # the library block: its first line is an accuracy
        accuracy = float(done.stdout.splitlines()[0])
        assert accuracy > 0.3, f"the README's config trains at {accuracy} (chance: 0.1)"
