"""A model's deployments and monitoring in the report: the deployment timeline, and per
target the monitoring status, windows, alerts and a drift heatmap (features x windows,
worst first), shaded by the same severity the Monitor view uses."""

from __future__ import annotations

import math
from typing import Any

from mmtop.tui.monitor_view import LIMITS, feature_order, severity
from mmtop.tui.report import page

# Severity (worst distance / its threshold) -> cell colour: under half, under, over, twice over.
SHADES = ((0.5, "#dff0df"), (1.0, "#fff0a8"), (2.0, "#ffc57d"), (math.inf, "#f29b9b"))
NO_DATA = "#f3f5f8"
WINDOW_COLUMNS = (
    "window", "start", "rows", "versions", "drifted", "prediction_psi", "latency_p95",
    "label_coverage", "accuracy", "f1", "mae", "rmse", "alert",
)  # fmt: skip


def deployments(st: Any, name: str) -> str:
    frame = st.deployments(name)
    if frame.height == 0:
        return page.note("never deployed")
    rows = []
    for event in frame.iter_rows(named=True):
        when = event.get("time")
        rows.append(
            [
                page.line(when.isoformat(timespec="seconds") if when is not None else ""),
                page.line(event.get("target")),
                page.line(
                    "(undeployed)" if event.get("version") is None else f"{name}/{event['version']}"
                ),
                page.line("" if event.get("from") is None else f"{name}/{event['from']}"),
                page.line("rollback" if event.get("rollback") else ""),
                page.line("serving" if event.get("current") else ""),
                page.line(f"{event.get('user') or ''}@{event.get('host') or ''}".strip("@")),
                page.line(event.get("note") or ""),
            ]
        )
    head = ["time", "target", "version", "replaced", "rollback", "now", "by", "note"]
    return page.table(head, rows)


def monitoring(st: Any, name: str) -> list[str]:
    """One part per target that has a prediction log or a deployment."""
    out: list[str] = []
    for target in st.targets(name):
        report = st.monitoring(name, target)
        out.append(f"<h3>{page.line(f'{name} at {target}: {report.status}')}</h3>\n")
        if report.windows.height == 0:
            out.append(page.note("no predictions logged yet"))
            continue
        out.append(page.note(f"windows of {report.window}; {report.alerts.height} alerts"))
        out.append(_windows(report))
        out.append(heatmap(report))
        if report.alerts.height:
            out.append(_alerts(report))
    return out


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return page.line("yes" if value else "")
    if isinstance(value, float):
        return f'<td class="num">{page.number(value)}</td>'
    if hasattr(value, "isoformat"):
        return page.line(value.isoformat(timespec="minutes"))
    if isinstance(value, list):
        return page.line(", ".join(str(v) for v in value))
    return page.line("" if value is None else value)


def _windows(report: Any) -> str:
    columns = [c for c in WINDOW_COLUMNS if c in report.windows.columns]
    rows = [[_cell(row[c]) for c in columns] for row in report.windows.iter_rows(named=True)]
    return page.table(columns, rows)


def _alerts(report: Any) -> str:
    columns = [c for c in ("start", "kind", "column", "value", "threshold", "message")]
    columns = [c for c in columns if c in report.alerts.columns]
    rows = [[_cell(row[c]) for c in columns] for row in report.alerts.iter_rows(named=True)]
    return "<h3>alerts</h3>\n" + page.table(columns, rows)


def shade(level: float | None) -> str:
    if level is None:
        return NO_DATA
    return next(colour for bound, colour in SHADES if level <= bound)


def heatmap(report: Any) -> str:
    """Features (rows, the most drifted first) x windows (columns); each cell the worst
    distance over its threshold (1 is the threshold)."""
    features = feature_order(report, LIMITS)
    if not features:
        return page.note("no feature drift computed")
    windows = report.windows.get_column("window").to_list()
    level: dict[tuple[str, int], float | None] = {}
    for row in report.drift.iter_rows(named=True):
        level[(row["column"], row["window"])] = severity(row, LIMITS)
    head = "".join(f"<th>{page.line(w)}</th>" for w in windows)
    body = []
    for feature in features:
        cells = []
        for w in windows:
            value = level.get((feature, w))
            text = "" if value is None else f"{value:.2g}"
            cells.append(f'<td style="background:{shade(value)}">{page.line(text)}</td>')
        body.append(f"<tr><th>{page.line(feature)}</th>{''.join(cells)}</tr>\n")
    return (
        "<h3>drift by feature and window</h3>\n"
        + page.note("worst distance over its threshold; above 1 drifted")
        + '<table class="heat drift">\n<thead><tr><th>feature \\ window</th>'
        + f"{head}</tr></thead>\n<tbody>\n{''.join(body)}</tbody>\n</table>\n"
    )
