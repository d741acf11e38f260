"""Config's fields as the command line, reports and logs show them: a field's help text (its
docstring), the fields that differ across configs, and a run's label.
"""

from __future__ import annotations

from dataclasses import fields

from coagentnet.config.schema import Config


def run_label(cfg, fields) -> str:
    """``"lr=0.01, rule=reinforce"``: the values of ``fields`` (those that vary across the runs
    shown together), or the rule's name when none varies."""
    return ", ".join(f"{n}={getattr(cfg, n)}" for n in fields) or cfg.rule


def varying_fields(configs, exclude: tuple[str, ...] = ()) -> list[str]:
    """The fields (in declaration order, less ``exclude``) that differ between ``configs``."""
    names = [f.name for f in fields(Config) if f.name not in exclude]
    return [n for n in names if len({getattr(c, n) for c in configs}) > 1]


def field_docs() -> dict[str, str]:
    """Field name -> its docstring, read from the source of :class:`Config` (for CLI help)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(Config))
    docs: dict[str, str] = {}
    body = tree.body[0].body
    for node, nxt in zip(body, body[1:], strict=False):
        if isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr):
            docs[node.target.id] = str(nxt.value.value).strip()
    return docs
