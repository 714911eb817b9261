"""The report for runs: one run, or several compared against the first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mmtop.tui import compare_data, diffing
from mmtop.tui.compare_series import run_series
from mmtop.tui.confusion import to_confusion
from mmtop.tui.formatting import fmt_duration
from mmtop.tui.report import page, svg
from mmtop.tui.run_colours import distinct, run_colours
from mmtop.tui.run_extras import RunExtras, TableRef, gather, read_table

MAX_CHARTS = 36  # keys charted; the summary table lists every key
MAX_POINTS = 2000  # per series, min/max downsampled as in the terminal


def runs_report(st: Any, run_ids: Sequence[str], *, title: str | None = None) -> str:
    data = compare_data.read_compare(st, run_ids)
    infos = [st.run(run_id) for run_id in data.run_ids]
    extras = [gather(info) for info in infos]
    many = len(infos) > 1
    heading = title or (
        f"{len(infos)} runs compared" if many else f"run {infos[0].experiment}/{infos[0].name}"
    )
    body = [
        page.section("Runs", _runs_table(infos, data.labels)),
        page.section("Metrics", *metrics_parts(st, data)),
        page.section("Params", _rows(diffing.diff_rows(data.params, all_rows=True), data.labels)),
    ]
    confusion = confusion_parts(infos, extras, data.labels)
    if confusion:
        body.append(page.section("Confusion matrices", *confusion))
    inputs = [list(e.inputs or []) for e in extras]
    body.append(page.section("Data", _rows(diffing.data_rows(inputs, all_rows=True), data.labels)))
    body.append(
        page.section(
            "Code and environment",
            "<h3>code</h3>\n",
            _rows(diffing.code_rows(data.codes, all_rows=True), data.labels),
            "<h3>environment</h3>\n",
            _rows(diffing.env_rows(data.envs, all_rows=not many), data.labels),
        )
    )
    notes = _notes(extras, data.labels)
    if notes:
        body.append(page.section("Notes", *notes))
    return page.document(heading, f"mmtop report of {st.root}", body)


def _runs_table(infos: list[Any], labels: list[str]) -> str:
    rows = [
        [
            page.line(label),
            page.line(i.experiment),
            page.line(i.status),
            page.line(i.created.isoformat(timespec="seconds") if i.created else ""),
            page.line(fmt_duration(i.duration_s)),
            page.line(", ".join(i.tags)),
            f"<code>{page.line(i.run_id)}</code>",
        ]
        for i, label in zip(infos, labels, strict=True)
    ]
    head = ["run", "experiment", "status", "created", "duration", "tags", "id"]
    return page.table(head, rows)


def metrics_parts(st: Any, data: compare_data.CompareData) -> list[str]:
    """The legend, one chart per key (most telling first), and the summary table."""
    # The colours the app gives these runs (by their place among all runs of the store).
    colours = distinct(data.run_ids, run_colours(st.runs()))
    labels = dict(zip(data.run_ids, data.labels, strict=True))
    keys = data.metric_keys
    charted = keys[:MAX_CHARTS]
    parts: list[str] = []
    if charted:
        frame = st.history(data.run_ids, keys=charted, max_points=MAX_POINTS)
        series = run_series(frame, labels, colours)
        index = {label: i for i, label in enumerate(data.labels)}
        parts.append(svg.legend([(label, colours[rid]) for rid, label in labels.items()]))
        charts = [svg.line_chart(key, series[key], index) for key in charted if key in series]
        parts.append(f'<div class="charts">\n{"".join(charts)}</div>\n')
        if len(keys) > len(charted):
            parts.append(page.note(f"{len(keys) - len(charted)} more keys are in the table only"))
    rows = diffing.metric_rows(data.stats, 0, all_rows=True)
    parts.append(_metric_table(rows, data.labels))
    return parts


def _metric_table(rows: list[diffing.MetricRow], labels: list[str]) -> str:
    if not rows:
        return page.note("no metrics logged")
    body = []
    for row in rows:
        cells = [f"<td>{page.line(row.key)}</td>", f"<td>{page.line(row.stat)}</td>"]
        for i, cell in enumerate(row.cells):
            text = page.number(cell.value)
            if cell.delta is not None:
                pct = "" if cell.pct is None else f", {cell.pct:+.3g}%"
                text += page.line(f" ({cell.delta:+.3g}{pct})")
            kind = ["num"]
            if i in row.best and len(row.cells) > 1:
                kind.append("best")
            if cell.better is not None:
                kind.append("better" if cell.better else "worse")
            cells.append(f'<td class="{" ".join(kind)}">{text}</td>')
        body.append(cells)
    note = page.note("deltas against the first run; bold is best where the direction is known")
    return (note if len(labels) > 1 else "") + page.table(["key", "stat", *labels], body)


def _rows(rows: list[diffing.Row], labels: list[str]) -> str:
    if not rows:
        return page.note("nothing recorded")
    body = [
        [f"<td>{page.line(r.key)}</td>", *(page.value(v, r.key) for v in r.values)] for r in rows
    ]
    differs = sum(1 for r in rows if r.differs)
    lead = page.note(f"{differs} of {len(rows)} differ") if len(labels) > 1 else ""
    return lead + page.table(["key", *labels], body)


def confusion_parts(infos: list[Any], extras: list[RunExtras], labels: list[str]) -> list[str]:
    out: list[str] = []
    for info, extra, label in zip(infos, extras, labels, strict=True):
        for ref in _latest_confusions(extra.tables):
            data, error = read_table(info, ref)
            matrix = to_confusion(data)
            title = f"{label}: {ref.of or ref.name}" + (f" (step {ref.step})" if ref.step else "")
            out.append(f"<h3>{page.line(title)}</h3>\n")
            if matrix is None:
                out.append(page.note(f"unreadable: {error or 'not a confusion matrix'}"))
                continue
            acc = matrix.accuracy()
            out.append(svg.confusion_table(matrix.labels, matrix.matrix))
            out.append(page.note(f"accuracy {acc:.4g}"))
    return out


def _latest_confusions(tables: list[TableRef]) -> list[TableRef]:
    latest: dict[str, TableRef] = {}
    for ref in tables:
        if ref.kind != "confusion":
            continue
        key = ref.of or ref.name
        held = latest.get(key)
        if held is None or (ref.step or -1) > (held.step or -1):
            latest[key] = ref
    return [latest[k] for k in sorted(latest)]


def _notes(extras: list[RunExtras], labels: list[str]) -> list[str]:
    out = []
    for extra, label in zip(extras, labels, strict=True):
        if extra.notes and extra.notes.strip():
            out.append(f"<h3>{page.line(label)}</h3>\n{page.pre(extra.notes)}")
    return out
