"""The package's layering: no import cycles (function-level imports count), no module over 300
lines, no private name imported across modules (``scripts/import_graph.py``); and its text
cites no project issue numbers (a reader of the code or the help cannot follow them)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "import_graph.py"


def graph(src: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(src)], capture_output=True, text=True, timeout=120
    )


def test_package_has_no_cycles_no_large_modules_no_private_imports():
    out = graph(ROOT / "src")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "import cycles: 0" in out.stdout
    assert "private names imported across modules: 0" in out.stdout


def test_the_checker_finds_a_function_level_cycle_a_large_module_and_a_private_import(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import _hidden\n")
    (pkg / "b.py").write_text("def f():\n    import pkg.a\n\n\n_hidden = 1\n" + "x = 1\n" * 300)
    out = graph(tmp_path)
    assert out.returncode == 1
    assert "import cycles: 1" in out.stdout and "pkg.a <-> pkg.b" in out.stdout
    assert "over 300 lines: pkg.b" in out.stdout
    assert "pkg.a: _hidden from pkg.b" in out.stdout


def test_the_checker_counts_annotation_only_and_import_module_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    for init in (pkg / "__init__.py", pkg / "sub" / "__init__.py"):
        init.write_text("")
    (pkg / "config.py").write_text("import pkg.table\n")
    (pkg / "table.py").write_text(
        "import importlib\n\n\ndef make(name):\n"
        "    return importlib.import_module(f'pkg.sub.{name}')\n"
    )
    (pkg / "sub" / "rule.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.config import C\n"
    )
    out = graph(tmp_path)
    assert out.returncode == 1
    assert "import cycles: 1" in out.stdout
    assert "pkg.config <-> pkg.sub.rule <-> pkg.table" in out.stdout


def test_importing_the_cli_and_building_a_config_starts_no_jax_backend():
    # The CLI asks JAX for one CPU device per core first; any JAX computation at import time
    # (a module-level constant, say) would fix the device count before it can.
    code = (
        "import coagentnet.cli\n"
        "from coagentnet.config import Config\n"
        "Config(rule='reinforce', baseline='ema')\n"
        "from jax._src import xla_bridge\n"
        "print(xla_bridge.backends_are_initialized())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_the_package_cites_no_issue_numbers():
    pattern = re.compile(r"\bissues?\s*#?\d+", re.IGNORECASE)  # across a line break too
    found = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}"
        for path in sorted((ROOT / "src" / "coagentnet").rglob("*.py"))
        for text in [path.read_text()]
        for m in pattern.finditer(text)
    ]
    assert not found, "\n".join(found)
