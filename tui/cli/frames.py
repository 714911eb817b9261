"""The flat runs frame (tui/flat.py, shared with the app) for tables and files: columns
chosen, rows sorted and limited."""

from __future__ import annotations

import difflib
import re

import polars as pl

from mmtop.tui import column_rule
from mmtop.tui.cli.errors import UsageError
from mmtop.tui.flat import Flat, flatten, flatten_keyed

# Shown by `ls` in a table when --columns is not given: enough to pick a run, plus metrics.
TABLE_COLUMNS = ("run_id", "experiment", "name", "status", "created", "duration_s")
TABLE_PREFIXES = ("metrics.",)
# Prefixes tried, in order, for a bare sort key such as `val/acc` or `lr`.
SORT_FALLBACKS = ("metrics.", "params.")

# On a terminal the default table follows the app's rule (tui/column_rule.py), with the id
# people copy into other commands after the name; min and max are not shown there.
TERMINAL_IDENTITY = ("run_id",)
TERMINAL_SKIPPED = ("metrics_min", "metrics_max")

__all__ = [
    "Flat",
    "choose_columns",
    "flatten",
    "flatten_keyed",
    "sort_column",
    "sort_limit",
    "table_sources",
    "terminal_columns",
    "terminal_sources",
]


def table_sources(columns: list[str], sort: list[str]) -> list[str]:
    """The runs frame's columns that the default table (and --sort) can need: flattening
    only those spares a run with 100k metric keys its min and max columns."""
    wanted = set(TABLE_COLUMNS) | {p.rstrip(".") for p in TABLE_PREFIXES} | {"created"}
    for key in sort:
        wanted.add(key.lstrip("+-").split(".", 1)[0])
        wanted.update(p.rstrip(".") for p in SORT_FALLBACKS)
    return [c for c in columns if c in wanted]


def terminal_sources(columns: list[str], sort: list[str]) -> list[str]:
    """The runs frame's columns the terminal table can need: all but min and max, unless a
    sort key names them."""
    wanted = {key.lstrip("+-").split(".", 1)[0] for key in sort}
    return [c for c in columns if c not in TERMINAL_SKIPPED or c in wanted]


def terminal_columns(flat: Flat, sort: list[str]) -> list[str]:
    """The terminal table's columns, most wanted first (tui/column_rule.py): a metric that
    --sort names leads the metrics."""
    names = flat.frame.columns
    first = []
    for key in sort:
        name = sort_column(key.lstrip("+-"), names)
        if name.startswith("metrics."):
            first.append(name)
    return column_rule.default_columns(flat.frame, first=first, identity=TERMINAL_IDENTITY)


def choose_columns(flat: Flat, spec: str | None, *, default_table: bool) -> list[str]:
    """Columns named by --columns: each comma item an exact name, else a regex (re.search).

    Without --columns: every column, or for a terminal table the short default set.
    """
    names = flat.names
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
        names = flat.names
        columns: list[pl.Expr] = []
        descending: list[bool] = []
        for raw in keys:
            desc = raw.startswith("-")
            name = sort_column(raw[1:] if desc or raw.startswith("+") else raw, names)
            column = flat.column(name)
            if isinstance(frame.head(0).select(column).dtypes[0], (pl.List, pl.Struct, pl.Array)):
                raise UsageError(f"--sort: cannot sort by {name!r}, it holds lists")
            columns.append(column)
            descending.append(desc)
        if frame.height > 1:  # a wide frame pays per column even to sort one row
            frame = frame.sort(columns, descending=descending, nulls_last=True, maintain_order=True)
    if limit is not None:
        frame = frame.head(limit)
    return flat.with_frame(frame)


def _suggest(word: str, names: list[str]) -> str:
    close = difflib.get_close_matches(word, names, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""
