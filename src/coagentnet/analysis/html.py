"""A self-contained HTML report: figures embedded as base64 PNG, tables, command, versions.

One file, no external resources and no scripts, so it opens anywhere (a browser, a CI
artifact viewer) and cannot break: figures are ``<img src="data:image/png;base64,...">``, the
SVG twins stay on disk next to the report for print-quality use.
"""

from __future__ import annotations

import base64
import html
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


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.5em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.85em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}tr:nth-child(even) td{background:#fafafa}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}
code,pre{background:#f5f5f5;padding:.1em .3em;border-radius:3px;font-size:.9em}
pre{padding:.6em;overflow-x:auto;white-space:pre-wrap}
.wide{overflow-x:auto;max-width:100%}
.error{color:#b00020;font-weight:600}.note{color:#555;font-size:.85em}
"""


def _table_html(table: Table) -> str:
    frame = table.frame
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return (
        f"<h4>{html.escape(table.title)}</h4>"
        f'<div class="wide"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{note}"
    )


def _cell(value) -> str:
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.4g}"
    return str(value)


def _figure_html(fig: Figure, base: Path | None) -> str:
    data = base64.b64encode(Path(fig.png).read_bytes()).decode("ascii")
    svg = ""
    if fig.svg is not None:
        ref = Path(fig.svg)
        if base is not None:
            try:
                ref = ref.relative_to(base)
            except ValueError:
                pass
        svg = f" (SVG: <code>{html.escape(str(ref))}</code>)"
    title = html.escape(fig.title)
    return (
        f'<figure><img alt="{title}" src="data:image/png;base64,{data}">'
        f"<figcaption>{title}{svg}</figcaption></figure>"
    )


def render(
    title: str,
    sections: list[Section],
    *,
    command: str,
    versions: dict[str, str],
    intro: list[str] | None = None,
    base: Path | None = None,
) -> str:
    """The report's HTML text. ``base``: folder the report lives in (for SVG paths)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for text in intro or []:
        parts.append(f"<p>{html.escape(text)}</p>")
    # Findings first: each section's text, then its figures, then its tables; how the page
    # was made (command, versions) comes last.
    for sec in sections:
        h = f"h{sec.level}"
        parts.append(f"<{h}>{html.escape(sec.title)}</{h}>")
        for text in sec.paragraphs:
            parts.append(f"<p>{html.escape(text)}</p>")
        for err in sec.errors:
            parts.append(f'<p class="error">{html.escape(err)}</p>')
        parts.extend(_figure_html(f, base) for f in sec.figures)
        parts.extend(_table_html(t) for t in sec.tables)
    parts.append(f"<h2>Provenance</h2><p>Made by:</p><pre>{html.escape(command)}</pre>")
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in {**versions, "report written": made}.items()
    )
    parts.append(f'<div class="wide"><table><tbody>{rows}</tbody></table></div>')
    parts.append("</body></html>")
    return "\n".join(parts)


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
