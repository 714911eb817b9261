"""The runs frame made flat for tables and files: dotted columns, chosen, sorted, limited.

The store nests params and metric summaries in struct columns. Flat formats (table, CSV,
Markdown, Parquet) want one column per leaf, `params.model.kind`, `metrics.val/acc`; JSON
wants the nesting back, so each flat column remembers the path it came from.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from mmtop.tui.cli.errors import UsageError

# Shown by `ls` in a table when --columns is not given: enough to pick a run, plus metrics.
TABLE_COLUMNS = ("run_id", "experiment", "name", "status", "created", "duration_s")
TABLE_PREFIXES = ("metrics.",)
# Prefixes tried, in order, for a bare sort key such as `val/acc` or `lr`.
SORT_FALLBACKS = ("metrics.", "params.")


@dataclass(frozen=True)
class Flat:
    """A flat frame, and for each of its columns the path of keys it came from."""

    frame: pl.DataFrame
    paths: dict[str, tuple[str, ...]]

    def select(self, columns: list[str]) -> Flat:
        return Flat(self.frame.select(columns), {c: self.paths[c] for c in columns})

    def with_frame(self, frame: pl.DataFrame) -> Flat:
        return Flat(frame, {c: self.paths[c] for c in frame.columns})


def flatten(runs: pl.DataFrame) -> Flat:
    """One column per leaf of every struct column; other columns unchanged."""
    exprs: list[pl.Expr] = []
    paths: dict[str, tuple[str, ...]] = {}

    def walk(expr: pl.Expr, path: tuple[str, ...], dtype: Any) -> None:
        if isinstance(dtype, pl.Struct):
            for field in dtype.fields:
                walk(expr.struct.field(field.name), (*path, field.name), field.dtype)
            return
        name = base = ".".join(path)
        n = 2
        while name in paths:  # a key with a literal dot colliding with a nested one
            name, n = f"{base}#{n}", n + 1
        paths[name] = path
        exprs.append(expr.alias(name))

    for column, dtype in runs.schema.items():
        walk(pl.col(column), (column,), dtype)
    return Flat(runs.select(exprs) if exprs else runs.clear(), paths)


def choose_columns(flat: Flat, spec: str | None, *, default_table: bool) -> list[str]:
    """Columns named by --columns: each comma item an exact name, else a regex (re.search).

    Without --columns: every column, or for a terminal table the short default set.
    """
    names = flat.frame.columns
    if not spec:
        if not default_table:
            return list(names)
        return [c for c in names if c in TABLE_COLUMNS or c.startswith(TABLE_PREFIXES)]
    chosen: list[str] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        if item in names:
            matched = [item]
        else:
            try:
                pattern = re.compile(item)
            except re.error as exc:
                raise UsageError(
                    f"--columns: {item!r} is not a column or a regex ({exc})"
                ) from None
            matched = [c for c in names if pattern.search(c)]
        if not matched:
            raise UsageError(f"--columns: nothing matches {item!r}{_suggest(item, names)}")
        chosen.extend(c for c in matched if c not in chosen)
    return chosen


def sort_column(key: str, names: list[str]) -> str:
    """The flat column a sort key names: exact, else metrics.KEY, else params.KEY."""
    if key in names:
        return key
    for prefix in SORT_FALLBACKS:
        if prefix + key in names:
            return prefix + key
    raise UsageError(f"--sort: no column {key!r}{_suggest(key, names)}")


def sort_limit(flat: Flat, keys: list[str], limit: int | None) -> Flat:
    """Sort by KEY / -KEY (nulls last either way, NaN counted as largest), then head(limit)."""
    frame = flat.frame
    if keys:
        columns: list[str] = []
        descending: list[bool] = []
        for raw in keys:
            desc = raw.startswith("-")
            name = sort_column(raw[1:] if desc or raw.startswith("+") else raw, frame.columns)
            if isinstance(frame.schema[name], (pl.List, pl.Struct, pl.Array)):
                raise UsageError(f"--sort: cannot sort by {name!r}, it holds lists")
            columns.append(name)
            descending.append(desc)
        frame = frame.sort(columns, descending=descending, nulls_last=True, maintain_order=True)
    if limit is not None:
        frame = frame.head(limit)
    return flat.with_frame(frame)


def _suggest(word: str, names: list[str]) -> str:
    close = difflib.get_close_matches(word, names, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""
