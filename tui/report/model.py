"""The report for a model version: its card (the fields of `mmtop models show`), lineage,
the model's event history, and the training run's curves when that run is in the store."""

from __future__ import annotations

from typing import Any

from mmtop.store.registry.events import describe
from mmtop.tui import compare_data, diffing
from mmtop.tui.cli.commands.models_show import overview
from mmtop.tui.report import monitoring, page
from mmtop.tui.report.runs import confusion_parts, metrics_parts
from mmtop.tui.run_extras import gather


def model_report(st: Any, version: Any, *, title: str | None = None) -> str:
    lin = version.lineage()
    body = [page.section("Model version", page.pairs(overview(version)))]
    metrics = lin.get("metrics") or {}
    body.append(
        page.section(
            "Metrics at registration",
            page.table(
                ["key", "value"],
                [
                    [page.line(k), f'<td class="num">{page.number(_float(v))}</td>']
                    for k, v in sorted(metrics.items())
                ],
            )
            if metrics
            else page.note("none recorded"),
        )
    )
    params = diffing.flatten(lin.get("params") or {})
    body.append(
        page.section(
            "Params",
            page.table(
                ["key", "value"],
                [[page.line(k), page.value(v, k)] for k, v in sorted(params.items())],
            )
            if params
            else page.note("none recorded"),
        )
    )
    body.append(page.section("Data", _datasets(lin.get("datasets") or [])))
    body.append(page.section("Lineage", page.pairs(_lineage(version, lin))))
    body.append(page.section("History", _history(st, version)))
    body.append(page.section("Deployments", monitoring.deployments(st, version.name)))
    watched = monitoring.monitoring(st, version.name)
    if watched:
        body.append(page.section("Monitoring", *watched))
    run_id = lin.get("run_id")
    if run_id:
        body.append(page.section("Training run", *_training(st, str(run_id))))
    heading = title or f"model {version.ref}"
    return page.document(heading, f"mmtop report of {st.root}", body)


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _datasets(datasets: list[Any]) -> str:
    fields = ("name", "kind", "uri", "fingerprint", "rows", "size")
    rows = [[page.value(d.get(f), f) for f in fields] for d in datasets if isinstance(d, dict)]
    return page.table(list(fields), rows) if rows else page.note("no datasets recorded")


def _lineage(version: Any, lin: dict[str, Any]) -> list[tuple[str, Any]]:
    code = lin.get("code") or {}
    parent = lin.get("parent") or {}
    return [
        ("run", f"{lin.get('experiment')}/{lin.get('run_id')}" if lin.get("run_id") else None),
        ("run name", lin.get("run_name")),
        ("code commit", code.get("commit")),
        ("branch", code.get("branch")),
        ("dirty", code.get("dirty")),
        ("parent", f"{parent.get('name')}/{parent.get('version')}" if parent.get("name") else None),
        ("children", ", ".join(lin.get("children") or [])),
    ]


def _history(st: Any, version: Any) -> str:
    """Every event of the model, oldest first; this version's own rows are marked."""
    from mmtop.store.registry.events import concerns

    frame = st.model_history(version.name)
    if frame.height == 0:
        return page.note("no events")
    rows = []
    for event in frame.iter_rows(named=True):
        raw = {k: (int(v) if k == "version" and v is not None else v) for k, v in event.items()}
        mine = concerns(raw, version.version)
        when = event.get("time")
        rows.append(
            [
                page.line(when.isoformat(timespec="seconds") if when is not None else ""),
                page.line(f"{version.name}/{event['version']}" if event.get("version") else ""),
                page.line(describe(raw)) + (" ◀" if mine else ""),
                page.line(f"{event.get('user') or ''}@{event.get('host') or ''}".strip("@")),
                page.line(event.get("reason") or ""),
            ]
        )
    return page.note(f"◀ marks events about version {version.version}") + page.table(
        ["time", "version", "event", "by", "reason"], rows
    )


def _training(st: Any, run_id: str) -> list[str]:
    data = compare_data.read_compare(st, [run_id])
    if not data.run_ids:
        return [page.note(f"run {run_id} is not in this store")]
    info = st.run(data.run_ids[0])
    return [*metrics_parts(st, data), *confusion_parts([info], [gather(info)], data.labels)]
