"""Import graph of the package: cycles, the largest modules, private names imported across modules.

Usage (from the repository root)::

    python scripts/import_graph.py [--max-lines 300] [SRC]

``SRC`` defaults to ``src``. Every module is parsed with :mod:`ast`, and every ``import`` /
``from ... import`` counts, at any depth: inside functions too, because a function-level import
is still a dependency, and inside ``if TYPE_CHECKING:`` too, because a module annotated with
another's types depends on it even if the import never runs. So does
``importlib.import_module`` with a literal name, or an f-string whose literal prefix ends in a
dot (``f"pkg.sub.{name}"``), which counts as importing every module under ``pkg.sub``.
Importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``, so those count as well
(except a module's own parent packages, which run before it whatever it imports).
Exit status 1 if there is a cycle, a module over ``--max-lines`` lines, or a private name
(``_x``) imported from another module; 0 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path


def module_names(src: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``src`` (packages as their name)."""
    names = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _dynamic(node: ast.AST, known: dict[str, Path]) -> set[str]:
    """The modules an ``import_module(...)`` call may import: its literal name, or every known
    module under the literal package prefix of an f-string (``f"pkg.sub.{x}"``)."""
    func = getattr(node, "func", None)
    name = getattr(func, "attr", None) or getattr(func, "id", None)
    if not isinstance(node, ast.Call) or name != "import_module" or not node.args:
        return set()
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return {arg.value}
    first = arg.values[0] if isinstance(arg, ast.JoinedStr) and arg.values else None
    prefix = first.value if isinstance(first, ast.Constant) else ""
    return {m for m in known if prefix.endswith(".") and m.startswith(prefix)}


def _base(name: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import reads from (resolving relative imports)."""
    if not node.level:
        return node.module or ""
    parts = name.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    return ".".join(parts[:keep] + ([node.module] if node.module else []))


def imports(name: str, path: Path, known: dict[str, Path]) -> tuple[set[str], list[str]]:
    """(modules ``name`` imports, private names it imports from other modules)."""
    tree = ast.parse(path.read_text(), str(path))
    targets: set[str] = set()
    private: list[str] = []
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        targets |= _dynamic(node, known)
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _base(name, is_package, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:  # ``from pkg import module``
                    targets.add(sub)
                else:
                    targets.add(base)
                    if alias.name.startswith("_") and base in known and base != name:
                        private.append(f"{name}: {alias.name} from {base}")
    deps = set()
    for target in targets:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):  # a.b.c runs a and a.b first
            dep = ".".join(parts[:i])
            # A module's own parent packages run before it whatever it imports: not a choice.
            if dep in known and dep != name and not name.startswith(dep + "."):
                deps.add(dep)
    return deps, private


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", default="src", help="source root (default: src)")
    parser.add_argument("--max-lines", type=int, default=300, help="largest allowed module")
    args = parser.parse_args(argv)
    src = Path(args.src)
    known = module_names(src)
    graph: dict[str, set[str]] = {}
    private: list[str] = []
    for name, path in known.items():
        graph[name], bad = imports(name, path, known)
        private.extend(bad)
    found = cycles(graph)
    sizes = sorted(((len(p.read_text().splitlines()), n) for n, p in known.items()), reverse=True)
    edges = sum(len(v) for v in graph.values())
    print(f"{len(known)} modules, {edges} import edges (function-level imports included)")
    print(f"import cycles: {len(found)}")
    for component in found:
        print("  cycle: " + " <-> ".join(component))
    print(f"largest module: {sizes[0][1]} ({sizes[0][0]} lines)")
    over = [(n, lines) for lines, n in sizes if lines > args.max_lines]
    for name, lines in over:
        print(f"  over {args.max_lines} lines: {name} ({lines})")
    print(f"private names imported across modules: {len(private)}")
    for line in private:
        print("  " + line)
    return 1 if found or over or private else 0


if __name__ == "__main__":
    sys.exit(main())
