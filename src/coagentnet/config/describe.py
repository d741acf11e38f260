"""What the command line and sweep files ask about Config's fields outside validation.

A field's help text (its docstring), the fields that differ across configs, and critic options
given explicitly to a rule without critics.
"""

from __future__ import annotations

from dataclasses import fields

from coagentnet.config_choices import CRITIC_OPTIONS
from coagentnet.errors import ConfigError
from coagentnet.rules import registry
from coagentnet.run_config import Config


def run_label(cfg, fields) -> str:
    """``"lr=0.01, rule=reinforce"``: the values of ``fields`` (those that vary across the runs
    shown together), or the rule's name when none varies."""
    return ", ".join(f"{n}={getattr(cfg, n)}" for n in fields) or cfg.rule


def varying_fields(configs, exclude: tuple[str, ...] = ()) -> list[str]:
    """The fields (in declaration order, less ``exclude``) that differ between ``configs``."""
    names = [f.name for f in fields(Config) if f.name not in exclude]
    return [n for n in names if len({getattr(c, n) for c in configs}) > 1]


def check_critic_options(cfg: Config, given: set[str]) -> None:
    """Reject critic options the user set explicitly for a rule that has no critics."""
    if cfg.has_critics:
        return
    for name in CRITIC_OPTIONS:
        if name in given:
            raise ConfigError(
                f"{name}: only critic rules ({', '.join(registry.names_where(critics=True))}) "
                f"take it, not {cfg.rule!r}"
            )


def field_docs() -> dict[str, str]:
    """Field name -> its docstring, read from this module's source (for CLI help)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(Config))
    docs: dict[str, str] = {}
    body = tree.body[0].body
    for node, nxt in zip(body, body[1:], strict=False):
        if isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr):
            docs[node.target.id] = str(nxt.value.value).strip()
    return docs
