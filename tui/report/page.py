"""The page around a report: escaping, inline CSS, tables and sections."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from mmtop.tui.cli import cells
from mmtop.tui.formatting import fmt_float
from mmtop.tui.safe_text import clean

# No scripts, no fetches of any kind; styles and images only from the page itself.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1180px;
       padding: 0 16px; color: #1d2430; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px;
     border-bottom: 1px solid #d8dde6; padding-bottom: 4px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
.meta { color: #5b6473; margin: 0 0 16px; }
table { border-collapse: collapse; margin: 4px 0 12px; }
th, td { border: 1px solid #d8dde6; padding: 3px 8px; text-align: left; vertical-align: top;
         font-variant-numeric: tabular-nums; }
th { background: #f3f5f8; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
td.best { font-weight: 700; } td.worse { color: #b3261e; } td.better { color: #1e7b34; }
tr.differs td:first-child { border-left: 3px solid #e8a33d; }
.missing { color: #9aa3b0; }
pre { background: #f6f8fa; padding: 8px 10px; overflow-x: auto; white-space: pre-wrap;
      word-break: break-word; border: 1px solid #e3e7ee; }
.legend { list-style: none; padding: 0; margin: 6px 0 10px; display: flex; flex-wrap: wrap;
          gap: 4px 18px; }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 14px; height: 4px; border-radius: 2px; }
.charts { display: flex; flex-wrap: wrap; gap: 10px; }
.chart { border: 1px solid #e3e7ee; }
.chart text { font: 11px system-ui, sans-serif; fill: #5b6473; }
.chart .title { font-size: 12px; font-weight: 600; fill: #1d2430; }
.chart .grid { stroke: #eef1f5; } .chart .axis { stroke: #b8c0cc; }
.chart polyline { fill: none; stroke-width: 1.6; stroke-linejoin: round; }
.heat td { text-align: right; min-width: 36px; }
.note { color: #5b6473; font-size: 13px; }
"""


def text(value: object) -> str:
    """Untrusted text as inert HTML text (or a double-quoted attribute value)."""
    return html.escape(clean(value), quote=True)


def line(value: object) -> str:
    return html.escape(clean(value, single_line=True), quote=True)


def value(value: Any, key: str = "") -> str:
    """A param, env or code value as one escaped cell."""
    from mmtop.tui import diffing

    if value is diffing.MISSING:
        return '<span class="missing">—</span>'
    if value is None:
        return '<span class="missing">null</span>'
    return line(cells.human(value, key))


def number(x: float | None) -> str:
    return '<span class="missing">—</span>' if x is None else line(fmt_float(x))


def document(title: str, subtitle: str, body: Iterable[str]) -> str:
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f"<title>{line(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            f'<h1>{line(title)}</h1>\n<p class="meta">{line(subtitle)}</p>\n',
            *body,
            "</body>\n</html>\n",
        ]
    )


def section(title: str, *parts: str) -> str:
    return f"<section>\n<h2>{line(title)}</h2>\n{''.join(parts)}</section>\n"


def table(head: Sequence[str], rows: Iterable[Sequence[str]], *, row_class: str = "") -> str:
    """`head` is plain text (escaped here); `rows` are cells of HTML made by this module."""
    out = [
        "<table>\n<thead><tr>",
        *(f"<th>{line(h)}</th>" for h in head),
        "</tr></thead>\n<tbody>\n",
    ]
    for cells_html in rows:
        out.append(f"<tr{row_class}>" + "".join(_td(c) for c in cells_html) + "</tr>\n")
    out.append("</tbody>\n</table>\n")
    return "".join(out)


def _td(cell: str) -> str:
    return cell if cell.startswith("<td") else f"<td>{cell}</td>"


def pairs(items: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of label -> value; empty values are left out."""
    rows = [(f"<th>{line(k)}</th>", value(v, k)) for k, v in items if v not in (None, "", [], {})]
    if not rows:
        return '<p class="note">nothing recorded</p>\n'
    body = "".join(f"<tr>{k}<td>{v}</td></tr>\n" for k, v in rows)
    return f"<table>\n<tbody>\n{body}</tbody>\n</table>\n"


def note(message: str) -> str:
    return f'<p class="note">{line(message)}</p>\n'


def pre(content: str) -> str:
    return f"<pre>{text(content)}</pre>\n"
