"""`Store.datasets()`: one row per committed dataset version, as a polars frame."""

from __future__ import annotations

from typing import Any

import polars as pl

from .version import DatasetVersion

SCHEMA: dict[str, Any] = {
    "name": pl.String,
    "version": pl.Int64,
    "fingerprint": pl.String,
    "kind": pl.String,
    "rows": pl.Int64,
    "columns": pl.Int64,
    "size": pl.Int64,
    "uri": pl.String,
    "created": pl.Datetime("us", "UTC"),
    "labels": pl.String,
    "parent": pl.String,
    "run_id": pl.String,
    "snapshot": pl.Boolean,
    "description": pl.String,
    "user": pl.String,
    "host": pl.String,
}


def datasets_frame(found: list[DatasetVersion]) -> pl.DataFrame:
    rows: dict[str, list[Any]] = {col: [] for col in SCHEMA}
    for v in found:
        m = v.manifest
        by = m.get("run")
        run: dict[str, Any] = by if isinstance(by, dict) else {}
        size = m.get("size")
        created = v.created
        rows["name"].append(v.name)
        rows["version"].append(v.version)
        rows["fingerprint"].append(v.fingerprint)
        rows["kind"].append(v.kind)
        rows["rows"].append(v.rows)
        rows["columns"].append(len(v.schema) if v.schema else None)
        rows["size"].append(size if isinstance(size, int) and not isinstance(size, bool) else None)
        rows["uri"].append(v.uri)
        rows["created"].append(created if created is None or created.tzinfo else None)
        rows["labels"].append(v.related("labels"))
        rows["parent"].append(v.related("parent"))
        rows["run_id"].append(_text(run.get("run_id")))
        rows["snapshot"].append(bool(m.get("snapshot")))
        rows["description"].append(_text(m.get("description")))
        rows["user"].append(_text(m.get("user")))
        rows["host"].append(_text(m.get("host")))
    return pl.DataFrame(rows, schema=SCHEMA)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
