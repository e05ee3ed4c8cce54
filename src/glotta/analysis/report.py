"""A self-contained HTML page and a Markdown file from tables and figures.

The HTML embeds the figures as data URIs (one file to mail or archive); the Markdown links the
PNG files written beside it. Both are written atomically.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

from glotta.analysis.tables import TableData
from glotta.data.atomic import write_text_atomic

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { font-weight: bold; text-align: left; padding: 0.3em 0; }
p.note { color: #555; font-size: 0.85em; margin: 0.2em 0; } img { max-width: 100%; }
"""


@dataclass
class Section:
    heading: str
    text: list[str] = field(default_factory=list)
    tables: list[TableData] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)  # PNG files


def _html_table(table: TableData) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{html.escape(v)}</td>' if i in table.numeric
                         else f"<td>{html.escape(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in table.notes)
    return f"<table><caption>{html.escape(table.title)}</caption><tr>{head}</tr>{body}</table>{notes}"


def markdown_table(table: TableData) -> str:
    """A table as GitHub Markdown: title in bold, ``|`` in cells escaped, notes below."""
    def cell(value: str) -> str:
        return value.replace("|", "\\|")

    lines = [f"**{table.title}**", "", "| " + " | ".join(map(cell, table.columns)) + " |",
             "|" + "|".join("---:" if i in table.numeric else "---" for i in range(len(table.columns))) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in table.rows]
    lines += [""] + [f"- {n}" for n in table.notes]
    return "\n".join(lines) + "\n"


def write_report(sections: list[Section], folder: Path, title: str) -> tuple[Path, Path]:
    """``report.html`` (self-contained) and ``report.md`` in ``folder``; returns both paths."""
    parts_html, parts_md = [f"<h1>{html.escape(title)}</h1>"], [f"# {title}\n"]
    for section in sections:
        parts_html.append(f"<h2>{html.escape(section.heading)}</h2>")
        parts_md.append(f"## {section.heading}\n")
        for line in section.text:
            parts_html.append(f"<p>{html.escape(line)}</p>")
            parts_md.append(f"{line}\n")
        for table in section.tables:
            parts_html.append(_html_table(table))
            parts_md.append(markdown_table(table))
        for figure in section.figures:
            data = base64.b64encode(figure.read_bytes()).decode("ascii")
            parts_html.append(f'<img alt="{html.escape(figure.stem)}" src="data:image/png;base64,{data}">')
            relative = figure.relative_to(folder) if figure.is_relative_to(folder) else figure
            parts_md.append(f"![{figure.stem}]({relative.as_posix()})\n")
    page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts_html)}</body></html>\n")
    html_path, md_path = folder / "report.html", folder / "report.md"
    write_text_atomic(html_path, page)
    write_text_atomic(md_path, "\n".join(parts_md))
    return html_path, md_path
