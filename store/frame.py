"""Turning run records into the runs frame: one row per run, params as a struct, metric
summaries and dataset fingerprints as keyed arrays (store/keyed.py).

Params are nested JSON, and different runs may disagree about a param's type. The rule
(docs/FORMAT.md, "Params in the runs frame"): a leaf whose values are all bools is Boolean,
all ints Int64, ints and floats Float64, all strings String; any other mix, and lists, become
String holding the value's JSON text (strings stay as they are). A path that is a leaf in one
run and a nested object in another becomes one String column holding JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import polars as pl

from .keyed import KEYED, Keyed, keyed_column
from .records import parse_time

Path_ = tuple[str, ...]
_TAG_SEP = "\x1f"

RUN_COLUMNS: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "experiment": pl.String(),
    "name": pl.String(),
    "status": pl.String(),
    "created": pl.Datetime("us", "UTC"),
    "ended": pl.Datetime("us", "UTC"),
    "duration_s": pl.Float64(),
    "last_step": pl.Int64(),
    "host": pl.String(),
    "user": pl.String(),
    "pid": pl.Int64(),
    "command": pl.String(),
    "tags": pl.List(pl.String()),
    "path": pl.String(),
}


def _flatten(obj: dict[str, Any], prefix: Path_, out: dict[Path_, Any], opaque: set[Path_]) -> None:
    for key, value in obj.items():
        path = (*prefix, str(key))
        if isinstance(value, dict) and value and path not in opaque:
            _flatten(value, path, out, opaque)
        else:
            out[path] = value


def _opaque_paths(flat_rows: Iterable[dict[Path_, Any]]) -> set[Path_]:
    """Leaf paths that are also a prefix of another leaf path (leaf here, object there)."""
    leaves: set[Path_] = set()
    for row in flat_rows:
        leaves.update(row)
    prefixes = {p[:i] for p in leaves for i in range(1, len(p))}
    return leaves & prefixes


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _leaf_series(name: str, values: list[Any]) -> pl.Series:
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return pl.Series(name, values, dtype=pl.Boolean)
    if kinds and kinds <= {int, float}:
        if kinds == {int} and all(v is None or -(2**63) <= v < 2**63 for v in values):
            return pl.Series(name, values, dtype=pl.Int64)
        try:
            floats = [None if v is None else float(v) for v in values]
        except OverflowError:  # an integer beyond any float (valid JSON): keep its text
            return pl.Series(name, [_json_text(v) for v in values], dtype=pl.String)
        return pl.Series(name, floats, dtype=pl.Float64)
    if kinds == {str} or not kinds:
        return pl.Series(name, values, dtype=pl.String)
    return pl.Series(name, [_json_text(v) for v in values], dtype=pl.String)


def _nest(name: str, columns: dict[Path_, list[Any]], depth: int, n: int) -> pl.Series:
    """Build a (nested) struct Series from flat leaf columns that share a path prefix."""
    groups: dict[str, dict[Path_, list[Any]]] = {}
    for path, values in columns.items():
        groups.setdefault(path[depth], {})[path] = values
    fields: list[pl.Series] = []
    for key in sorted(groups):
        sub = groups[key]
        if len(sub) == 1 and len(next(iter(sub))) == depth + 1:
            fields.append(_leaf_series(key, next(iter(sub.values()))))
        else:
            fields.append(_nest(key, sub, depth + 1, n))
    if not fields:
        return pl.Series(name, [None] * n, dtype=pl.Struct([]))
    return pl.struct(fields, eager=True).alias(name)


def params_series(params: list[dict[str, Any]]) -> pl.Series:
    n = len(params)
    first: list[dict[Path_, Any]] = []
    for p in params:
        flat: dict[Path_, Any] = {}
        _flatten(p, (), flat, set())
        first.append(flat)
    opaque = _opaque_paths(first)
    rows = first
    if opaque:
        rows = []
        for p in params:
            flat = {}
            _flatten(p, (), flat, opaque)
            rows.append(flat)
    paths_: set[Path_] = set()
    for row in rows:
        paths_.update(row)
    columns = {path: [row.get(path) for row in rows] for path in paths_}
    if not columns:
        return pl.Series("params", [None] * n, dtype=pl.Struct([]))
    return _nest("params", columns, 0, n)


def build_frame(records: list[dict[str, Any]]) -> Keyed:
    """Records (meta, params, metrics, values, status, last_step ...) -> the runs frame."""
    cols: dict[str, list[Any]] = {c: [] for c in RUN_COLUMNS}
    last: list[dict[str, float]] = []
    mins: list[dict[str, float]] = []
    maxs: list[dict[str, float]] = []
    for rec in records:
        meta = rec["meta"]
        created = parse_time(meta.get("created"))
        ended = parse_time(meta.get("ended"))
        cols["run_id"].append(str(meta.get("run_id")))
        cols["experiment"].append(str(meta.get("experiment", "")))
        cols["name"].append(str(meta.get("name", "")))
        cols["status"].append(rec["status"])
        cols["created"].append(created)
        cols["ended"].append(ended)
        end = ended or rec.get("last_seen")  # live runs: the reader fills this in
        cols["duration_s"].append(
            (end - created).total_seconds() if created is not None and end is not None else None
        )
        steps = [int(s["last_step"]) for s in rec["metrics"].values()]
        cols["last_step"].append(max(steps) if steps else None)
        cols["host"].append(_str_or_none(meta.get("host")))
        cols["user"].append(_str_or_none(meta.get("user")))
        pid = meta.get("pid")
        cols["pid"].append(pid if isinstance(pid, int) and not isinstance(pid, bool) else None)
        command = meta.get("command")
        cols["command"].append(
            " ".join(map(str, command)) if isinstance(command, list) else _str_or_none(command)
        )
        tags = meta.get("tags")
        # Joined here and split by polars: a Series from 100k small lists is slow. Tags cannot
        # hold control characters (store/names.py), so the unit separator is free.
        cols["tags"].append(
            _TAG_SEP.join(map(str, tags)) if isinstance(tags, list) and tags else None
        )
        cols["path"].append(rec["path"])
        last.append({k: s["last"] for k, s in rec["metrics"].items()} | rec["values"])
        mins.append({k: s["min"] for k, s in rec["metrics"].items()})
        maxs.append({k: s["max"] for k, s in rec["metrics"].items()})
        for k, v in rec["values"].items():
            mins[-1].setdefault(k, v)
            maxs[-1].setdefault(k, v)
    kinds = dict(RUN_COLUMNS, tags=pl.String())
    frame = pl.DataFrame([pl.Series(c, cols[c], dtype=t) for c, t in kinds.items()])
    frame = frame.with_columns(
        pl.col("tags").str.split(_TAG_SEP).fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )
    peak = [_peak_rss(r.get("system") or {}) for r in records]
    keyed = {
        "datasets": [r.get("datasets") or {} for r in records],
        "metrics": last,
        "metrics_min": mins,
        "metrics_max": maxs,
    }
    keys: dict[str, list[str]] = {}
    arrays: list[pl.Series] = []
    for name, rows in keyed.items():
        # min and max have the same keys: sorting 100k of them once is enough
        known = keys.get("metrics_min") if name == "metrics_max" else None
        column, keys[name] = keyed_column(name, rows, KEYED[name], known)
        arrays.append(column)
    frame = frame.with_columns(
        pl.Series("peak_rss_mb", peak, dtype=pl.Float64),
        arrays[0],
        params_series([r["params"] for r in records]),
        *arrays[1:],
    )
    ordered = [c for c in frame.columns if c != "path"] + ["path"]
    return Keyed(frame.select(ordered), keys)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _leaves(dtype: pl.DataType, prefix: str, out: dict[str, pl.DataType]) -> None:
    if isinstance(dtype, pl.Struct):
        out[prefix] = pl.Struct([])  # marks "an object here"
        for f in dtype.fields:
            inner = f.dtype if isinstance(f.dtype, pl.DataType) else f.dtype()
            _leaves(inner, f"{prefix}\x00{f.name}", out)
    else:
        out[prefix] = dtype


def compatible(a: pl.Schema, b: pl.Schema) -> bool:
    """True if two runs frames differ only by added fields, never by a field's type.

    Then stacking them (polars' relaxed diagonal concat) gives the frame a full rebuild would;
    when a param changes type, only a full rebuild applies the documented rule.
    """
    left: dict[str, pl.DataType] = {}
    right: dict[str, pl.DataType] = {}
    # Keyed columns always agree: their widths differ, `Keyed.aligned` evens them out.
    for name, dtype in a.items():
        if name not in KEYED:
            _leaves(dtype, name, left)
    for name, dtype in b.items():
        if name not in KEYED:
            _leaves(dtype, name, right)
    for path in left.keys() & right.keys():
        x, y = left[path], right[path]
        if x != y and pl.Null() not in (x, y):
            return False
    return True


def stack(old: Keyed, new: Keyed, check: bool = True) -> Keyed | None:
    """Rows of both frames in listing order, or None when their types disagree (unless
    `check` is off: the caller then rebuilds the params column itself)."""
    if new.height == 0:
        return old
    if old.height == 0:
        return new
    if check and not compatible(old.frame.schema, new.frame.schema):
        return None
    union = {
        name: sorted(set(old.keys.get(name, [])) | set(new.keys.get(name, [])))
        for name in old.keys.keys() | new.keys.keys()
    }
    a, b = old.aligned(union), new.aligned(union)
    both = pl.concat([a.frame, b.frame], how="diagonal_relaxed").sort("run_id", "path")
    # Stacking appends new struct fields and leaves absent nested objects null; a full build
    # sorts fields and fills absent leaves with nulls. Make the two indistinguishable.
    both = both.with_columns(
        _canonical(pl.col(name), dtype).alias(name)
        for name, dtype in both.schema.items()
        if isinstance(dtype, pl.Struct) and dtype.fields
    )
    return Keyed(both, union)


def _canonical(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if not isinstance(dtype, pl.Struct) or not dtype.fields:
        return expr
    fields = sorted(dtype.fields, key=lambda f: f.name)
    return pl.struct(
        _canonical(
            expr.struct.field(f.name),
            f.dtype if isinstance(f.dtype, pl.DataType) else f.dtype(),
        ).alias(f.name)
        for f in fields
    )


def _peak_rss(system: dict[str, Any]) -> float | None:
    """The largest RSS of any process of the run: `sys/proc_rss_mb`, or in a shared run
    `sys/rank<N>/proc_rss_mb` per rank."""
    peaks = [
        st.get("max")
        for key, st in system.items()
        if key.endswith("proc_rss_mb") and (key == "sys/proc_rss_mb" or key.startswith("sys/rank"))
    ]
    found = [p for p in peaks if isinstance(p, int | float)]
    return max(found) if found else None
