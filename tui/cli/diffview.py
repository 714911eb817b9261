"""Rendering a run comparison (`mmtop diff`) as a terminal table, CSV, JSON or Markdown."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from mmtop.tui import diffing
from mmtop.tui.cli import cells, formats
from mmtop.tui.cli.common import is_tty
from mmtop.tui.formatting import fmt_float, shell_command

# On a narrow terminal keys stay readable and values keep their leading digits.
KEY_FLOOR = 32
VALUE_FLOOR = 12
ARROWS = {"lower": "↓", "higher": "↑", None: ""}
BETTER_STYLE = {True: "green", False: "red", None: ""}


@dataclass
class Report:
    runs: list[dict[str, Any]]
    labels: list[str]
    baseline: int
    sections: list[str]
    rows: dict[str, list[diffing.Row]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    metrics: list[diffing.MetricRow] = field(default_factory=list)
    different_data: list[str] = field(default_factory=list)


def labels(runs: Sequence[tuple[str, str]]) -> list[str]:
    """Column titles: the run name, with an id suffix where names repeat."""
    names = [name for _, name in runs]
    return [name if names.count(name) == 1 else f"{name} [{run_id[-6:]}]" for run_id, name in runs]


def render(report: Report, fmt: str, out: IO[bytes], *, to_terminal: bool) -> None:
    if fmt == "json":
        out.write((cells.json_dumps(as_json(report)) + "\n").encode())
    elif fmt == "csv":
        out.write(as_csv(report).encode())
    elif fmt == "md":
        out.write(as_markdown(report).encode())
    else:
        _tables(report, out, rich=to_terminal and is_tty(sys.stdout))


# ----------------------------------------------------------------------------- cells
def _value_text(value: Any, key: str = "") -> str:
    if value is diffing.MISSING:
        return "—"
    if value is None:
        return "null"
    if key == "command":
        return shell_command(value)  # as the shell would take it, not "a, b, c"
    return cells.human(value)


def _metric_text(cell: diffing.Cell, best: bool) -> str:
    if cell.value is None:
        return "—"
    text = fmt_float(cell.value)
    if cell.delta is not None:
        pct = "" if cell.pct is None else f", {cell.pct:+.3g}%"
        text += f" ({cell.delta:+.3g}{pct})"
    return text + (" *" if best else "")


def _header(report: Report) -> list[str]:
    return [
        label + (" (baseline)" if i == report.baseline else "")
        for i, label in enumerate(report.labels)
    ]


def _metric_key(row: diffing.MetricRow) -> str:
    arrow = ARROWS[row.direction]
    return f"{row.key} {arrow}" if arrow else row.key


def _summary(report: Report, section: str) -> str:
    total = report.totals.get(section, 0)
    if total == 0:
        return f"{section}: none recorded"
    differing = (
        sum(1 for r in report.metrics if r.differs)
        if section == "metrics"
        else sum(1 for r in report.rows.get(section, []) if r.differs)
    )
    noun = "rows" if section == "metrics" else "keys"
    if section == "metrics":
        return f"metrics: {len(report.metrics)} {noun} shown, {differing} differ ({total} keys)"
    return f"{section}: {differing} of {total} {noun} differ"


# ----------------------------------------------------------------------------- terminal
def _tables(report: Report, out: IO[bytes], *, rich: bool) -> None:
    header = _header(report)
    for section in report.sections:
        title = _summary(report, section)
        if section == "data" and report.different_data:
            title += " — trained on different data: " + ", ".join(report.different_data)
        if section == "metrics":
            head = ["metric", "stat", *header]
            body = [
                [cells.human(_metric_key(r)), r.stat]
                + [_metric_text(c, i in r.best) for i, c in enumerate(r.cells)]
                for r in report.metrics
            ]
            styles = [
                ["", ""]
                + [
                    ("bold " if i in r.best else "") + BETTER_STYLE[c.better]
                    for i, c in enumerate(r.cells)
                ]
                for r in report.metrics
            ]
            right = [False, False] + [True] * len(header)
        else:
            rows = report.rows.get(section, [])
            head = ["key", *header]
            body = [[cells.human(r.key)] + [_value_text(v, r.key) for v in r.values] for r in rows]
            styles = [
                [""]
                + [
                    "yellow" if not diffing.same(v, r.values[report.baseline]) else ""
                    for v in r.values
                ]
                for r in rows
            ]
            right = [False] * len(head)
        title = cells.human(title)
        if rich and body:
            keys = 2 if section == "metrics" else 1
            caps = [KEY_FLOOR] * keys + [VALUE_FLOOR] * len(header)
            floor = formats.min_widths(head, body, caps)
            formats.write_rich_table(head, body, right, styles, title=title, floor=floor)
            continue
        out.write(f"{title}\n".encode())
        if body:
            formats.write_plain_table(head, body, right, out)
        out.write(b"\n")
    if "metrics" in report.sections and report.metrics:
        base = cells.human(report.labels[report.baseline])
        out.write(f"deltas vs {base}; * best; ↓/↑ lower/higher is better\n".encode())


# ----------------------------------------------------------------------------- markdown
def as_markdown(report: Report) -> str:
    header = _header(report)
    lines: list[str] = []
    for section in report.sections:
        lines.append(f"### {cells.md_cell(_summary(report, section))}")
        if section == "data" and report.different_data:
            names = ", ".join(cells.md_cell(n) for n in report.different_data)
            lines.append(f"\n**Trained on different data:** {names}")
        lines.append("")
        if section == "metrics":
            if not report.metrics:
                continue
            head = ["metric", "stat", *header]
            lines.append("| " + " | ".join(cells.md_cell(h) for h in head) + " |")
            lines.append("|---|---|" + "---:|" * len(header))
            for r in report.metrics:
                row = [cells.md_cell(_metric_key(r)), r.stat]
                for i, c in enumerate(r.cells):
                    text = cells.md_cell(_metric_text(c, False))
                    row.append(f"**{text}**" if i in r.best else text)
                lines.append("| " + " | ".join(row) + " |")
        else:
            rows = report.rows.get(section, [])
            if not rows:
                continue
            head = ["key", *header]
            lines.append("| " + " | ".join(cells.md_cell(h) for h in head) + " |")
            lines.append("|---|" + "---|" * len(header))
            for entry in rows:
                values = [cells.md_cell(_value_text(v, entry.key)) for v in entry.values]
                lines.append("| " + " | ".join([cells.md_cell(entry.key), *values]) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- csv, json
def _csv_value(value: Any) -> str:
    if value is diffing.MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return cells.csv_text(value)
    return cells.csv_text(cells.json_dumps(value))


def as_csv(report: Report) -> str:
    """One tidy sheet: section, key, stat, a value column per run, then deltas and %."""
    others = [i for i in range(len(report.labels)) if i != report.baseline]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    head = ["section", "key", "stat", *report.labels]
    head += [f"delta:{report.labels[i]}" for i in others]
    head += [f"pct:{report.labels[i]}" for i in others]
    writer.writerow([cells.csv_text(h) for h in head])
    blanks = [""] * (2 * len(others))
    for section in report.sections:
        if section == "metrics":
            for r in report.metrics:
                values = [_csv_value(c.value) for c in r.cells]
                deltas = [_csv_value(r.cells[i].delta) for i in others]
                pcts = [_csv_value(r.cells[i].pct) for i in others]
                writer.writerow([section, _csv_value(r.key), r.stat, *values, *deltas, *pcts])
            continue
        for row in report.rows.get(section, []):
            values = [_csv_value(v) for v in row.values]
            writer.writerow([section, _csv_value(row.key), "", *values, *blanks])
    return buf.getvalue()


def as_json(report: Report) -> dict[str, Any]:
    runs = [
        {**run, "label": label, "baseline": i == report.baseline}
        for i, (run, label) in enumerate(zip(report.runs, report.labels, strict=True))
    ]
    doc: dict[str, Any] = {"runs": runs, "baseline": report.runs[report.baseline]["run_id"]}
    ids = [r["run_id"] for r in report.runs]
    for section in report.sections:
        if section == "metrics":
            doc["metrics"] = [
                {
                    "key": r.key,
                    "stat": r.stat,
                    "direction": r.direction,
                    "differs": r.differs,
                    "values": [c.value for c in r.cells],
                    "delta": [c.delta for c in r.cells],
                    "pct": [c.pct for c in r.cells],
                    "better": [c.better for c in r.cells],
                    "best": [ids[i] for i in r.best],
                }
                for r in report.metrics
            ]
            continue
        doc[section] = [
            {
                "key": r.key,
                "differs": r.differs,
                "values": [None if v is diffing.MISSING else v for v in r.values],
                "missing": [ids[i] for i, v in enumerate(r.values) if v is diffing.MISSING],
            }
            for r in report.rows.get(section, [])
        ]
    if "data" in report.sections:
        doc["different_data"] = report.different_data
    return doc
