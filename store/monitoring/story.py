"""The retraining story of a target, one line per step:

v3 (prod since 2026-03-01 12:00 UTC)
  drift alert on f1, f3 from 2026-03-05 00:00 UTC (2 windows)
  -> v4 retrained: drift on f1 (run 20260306T..., data train blake2b:...)
v4 (prod since 2026-03-07 09:00 UTC)
v4 undeployed from prod at 2026-04-01 08:00 UTC by alice: replaced by the v2 service
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from ..registry.catalog import Catalog
    from .report import MonitoringReport


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "?"


def story(catalog: Catalog, name: str, target: str, report: MonitoringReport) -> list[str]:
    timeline = report.deployments
    if timeline is None or not timeline.height:
        return []
    lines: list[str] = []
    for event in timeline.iter_rows(named=True):
        version = event["version"]
        if version is None:
            if event["from"] is not None:
                note = f": {event['note']}" if event["note"] else ""
                lines.append(
                    f"v{event['from']} undeployed from {target} at {_when(event['time'])}"
                    f" by {event['user'] or '?'}{note}"
                )
            continue
        how = "rolled back" if event["rollback"] else target
        lines.append(f"v{version} ({how} since {_when(event['time'])})")
        lines += _alerts(report, version)
        lines += _children(catalog, name, version)
    return lines


def _alerts(report: MonitoringReport, version: int) -> list[str]:
    if not report.alerts.height or not report.windows.height:
        return []
    served = report.windows.filter(pl.col("versions").list.contains(version))["window"].to_list()
    mine = report.alerts.filter(pl.col("window").is_in(served))
    out = []
    for kind, label in (
        ("data_drift", "drift alert on"),
        ("prediction_drift", "prediction drift"),
        ("performance", "performance alert on"),
    ):
        rows = mine.filter(pl.col("kind") == kind)
        if not rows.height:
            continue
        columns = ", ".join(sorted(set(rows["column"].drop_nulls().to_list())))
        first = rows["start"].min()
        count = rows["window"].n_unique()
        what = f"{label} {columns}" if kind != "prediction_drift" else label
        plural = "s" if count != 1 else ""
        out.append(
            f"  {what} from {_when(first if isinstance(first, dt.datetime) else None)} "
            f"({count} window{plural})"
        )
    return out


def _children(catalog: Catalog, name: str, version: int) -> list[str]:
    out = []
    for ref in catalog.children(name, version):
        child_name, _, number = ref.partition("/")
        lineage: dict[str, Any] = catalog.manifest(child_name, int(number)).get("lineage") or {}
        bits = []
        if lineage.get("run_id"):
            bits.append(f"run {lineage['run_id']}")
        for data in lineage.get("datasets") or []:
            if isinstance(data, dict) and data.get("fingerprint"):
                bits.append(f"data {data.get('name')} {data['fingerprint']}")
        reason = f": {lineage['reason']}" if lineage.get("reason") else ""
        detail = f" ({'; '.join(bits)})" if bits else ""
        shown = f"v{number}" if child_name == name else ref
        out.append(f"  -> {shown} retrained{reason}{detail}")
    return out
