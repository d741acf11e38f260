"""The report's final tables as Markdown (``summary.md``, for docs/RESULTS.md), with the text
that comes from a store escaped so that a file name cannot inject markup."""

from __future__ import annotations


def summary_markdown(summary: dict) -> str:
    """The final tables as Markdown (for docs/RESULTS.md)."""
    lines = []
    for st, exps in summary["studies"].items():
        for exp, info in exps.items():
            head = md_text(exp) if st == exp else f"{md_text(st)} / {md_text(exp)}"
            lines.append(f"### {head}\n")  # a store outside a study: one name, not "s / s"
            rows = info["table"]
            if not rows:
                lines.append("(no complete runs)\n")
                continue
            cols = list(rows[0])
            lines.append("| " + " | ".join(md_text(c) for c in cols) + " |")
            lines.append("|" + "---|" * len(cols))
            for r in rows:
                lines.append("| " + " | ".join(md_cell(r[c]) for c in cols) + " |")
            lines.append("")
    return "\n".join(lines)


def md_cell(value) -> str:
    """A table cell for Markdown: floats to 4 significant digits, NaN as n/a."""
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.4g}"
    return md_text(value)


def md_text(value) -> str:
    """Store-derived text for Markdown: HTML special characters escaped (a store's file name
    may carry markup that Markdown viewers would render), table pipes and line breaks too."""
    import html as _html

    text = _html.escape(str(value), quote=False)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


__all__ = ["md_cell", "md_text", "summary_markdown"]
