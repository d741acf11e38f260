"""A self-contained HTML report: figures embedded as base64 PNG, tables, command, versions.

The page is a Jinja2 template shipped as package data (``templates/report.html.j2``); this
module turns sections, tables and figures into plain values for it (autoescaped there).

One file, no external resources and no scripts, so it opens anywhere (a browser, a CI
artifact viewer) and cannot break: figures are ``<img src="data:image/png;base64,...">``, the
SVG twins stay on disk next to the report for print-quality use.
"""

from __future__ import annotations

import base64
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd


@dataclass
class Figure:
    title: str
    png: Path
    svg: Path | None = None


@dataclass
class Table:
    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass
class Section:
    """A study (or experiment) in the report: text paragraphs, tables, figures."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    level: int = 2


#: The page's template, a package data file beside this module (``templates/``).
TEMPLATE = "report.html.j2"


def _cell(value) -> str:
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.4g}"
    return str(value)


def _table_view(table: Table) -> dict:
    frame = table.frame
    return {
        "title": table.title,
        "columns": [str(c) for c in frame.columns],
        "rows": [[_cell(v) for v in row] for row in frame.itertuples(index=False)],
        "note": table.note,
    }


def _figure_view(fig: Figure, base: Path | None) -> dict:
    data = base64.b64encode(Path(fig.png).read_bytes()).decode("ascii")
    svg = None
    if fig.svg is not None:
        svg = Path(fig.svg)
        if base is not None:
            try:
                svg = svg.relative_to(base)
            except ValueError:
                pass
    return {"title": fig.title, "data": data, "svg": None if svg is None else str(svg)}


def _template():
    import jinja2  # here, not at module import: the CLI's --help never pays for it

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("coagentnet.analysis", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(TEMPLATE)


def render(
    title: str,
    sections: list[Section],
    *,
    command: str,
    versions: dict[str, str],
    intro: list[str] | None = None,
    base: Path | None = None,
) -> str:
    """The report's HTML text, from the ``templates/report.html.j2`` package file.
    ``base``: folder the report lives in (for SVG paths).

    Findings first: each section's text, then its figures, then its tables; how the page was
    made (command, versions) comes last.
    """
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    views = [
        {
            "title": sec.title,
            "level": sec.level,
            "paragraphs": sec.paragraphs,
            "errors": sec.errors,
            "figures": [_figure_view(f, base) for f in sec.figures],
            "tables": [_table_view(t) for t in sec.tables],
        }
        for sec in sections
    ]
    provenance = [(k, str(v)) for k, v in {**versions, "report written": made}.items()]
    return _template().render(
        title=title,
        intro=list(intro or []),
        sections=views,
        command=command,
        provenance=provenance,
    )


def analysis_versions() -> dict[str, str]:
    """Versions of what made the figures (the training versions come from the store)."""
    import matplotlib
    import numpy

    import coagentnet

    return {
        "coagentnet (report)": coagentnet.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "matplotlib": matplotlib.__version__,
        "platform": platform.platform(),
    }


def write(path: str | Path, text: str) -> Path:
    from coagentnet.atomic import write_text

    return write_text(path, text, option="report")


__all__ = ["Figure", "Table", "Section", "render", "analysis_versions", "write"]
