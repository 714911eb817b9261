"""`Store.models()`: one row per committed version, as a polars frame."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from .catalog import Catalog

SCHEMA: dict[str, Any] = {
    "name": pl.String,
    "version": pl.Int64,
    "aliases": pl.List(pl.String),
    "created": pl.Datetime("us", "UTC"),
    "flavour": pl.String,
    "size": pl.Int64,
    "run_id": pl.String,
    "experiment": pl.String,
    "parent": pl.String,
    "description": pl.String,
    "deprecated": pl.Boolean,
    "user": pl.String,
    "host": pl.String,
}


def models_frame(catalog: Catalog, name: str | None = None) -> pl.DataFrame:
    """Columns as SCHEMA, then `metrics` (a struct of the run's metrics at registration)."""
    scanned = [item for item in catalog.scan() if name is None or item[0] == name]
    # Manifests never change and events only add up: the same versions and last events
    # give the same frame.
    key = (name, tuple((m, tuple(numbers), seq) for m, numbers, _, seq in scanned))
    cached = catalog.frames.get(key)
    if cached is not None:
        return cached
    rows: dict[str, list[Any]] = {col: [] for col in SCHEMA}
    metrics: list[dict[str, float] | None] = []
    for model, numbers, state, _ in scanned:
        for number in numbers:
            m = catalog.manifest(model, number)
            lineage = m.get("lineage") or {}
            parent = lineage.get("parent") or {}
            rows["name"].append(model)
            rows["version"].append(number)
            rows["aliases"].append(state.aliases_of(number))
            rows["created"].append(_time(m.get("created")))
            rows["flavour"].append(m.get("flavour"))
            rows["size"].append(m.get("size"))
            rows["run_id"].append(lineage.get("run_id"))
            rows["experiment"].append(lineage.get("experiment"))
            rows["parent"].append(
                f"{parent['name']}/{parent['version']}" if parent.get("name") else None
            )
            rows["description"].append(state.descriptions.get(number, m.get("description")))
            rows["deprecated"].append(number in state.deprecated)
            rows["user"].append(m.get("user"))
            rows["host"].append(m.get("host"))
            found = lineage.get("metrics")
            metrics.append(_floats(found) if isinstance(found, dict) else None)
    frame = pl.DataFrame(rows, schema=SCHEMA)
    keys = sorted({k for m in metrics if m for k in m})
    if keys:
        struct = pl.Struct({k: pl.Float64 for k in keys})
        frame = frame.with_columns(pl.Series("metrics", metrics, dtype=struct))
    catalog.frames.clear()  # only the newest is ever asked for again
    catalog.frames[key] = frame
    return frame


def _time(text: Any) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _floats(values: dict[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in values.items() if isinstance(v, int | float)}


HISTORY_SCHEMA: dict[str, Any] = {
    "seq": pl.Int64,
    "time": pl.Datetime("us", "UTC"),
    "action": pl.String,
    "version": pl.Int64,
    "alias": pl.String,
    "target": pl.String,
    "key": pl.String,
    "from": pl.String,
    "to": pl.String,
    "user": pl.String,
    "host": pl.String,
    "reason": pl.String,
    "note": pl.String,
}


def history_frame(events: list[dict[str, Any]]) -> pl.DataFrame:
    """One row per event, in order; `from`/`to` as text (versions, tag values, flags)."""
    rows: dict[str, list[Any]] = {col: [] for col in HISTORY_SCHEMA}
    for event in events:
        for col in HISTORY_SCHEMA:
            value = event.get(col)
            if col == "time":
                value = _time(value)
            elif col in ("from", "to") and value is not None:
                value = str(value).lower() if isinstance(value, bool) else str(value)
            elif col in ("seq", "version") and not isinstance(value, int):
                value = None
            elif col not in ("seq", "version") and value is not None:
                value = str(value)
            rows[col].append(value)
    return pl.DataFrame(rows, schema=HISTORY_SCHEMA)
