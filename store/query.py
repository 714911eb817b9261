"""The filter language: SQL boolean expressions over the runs frame, parsed by polars.

Never Python `eval`. Every filter is checked first (`filter_check`): no subqueries, no
table functions, only allow-listed functions, so a filter reads nothing but the frame.
Errors from polars (syntax, unknown column or field, type mismatch)
become one `QueryError` whose message fits on one line.
"""

from __future__ import annotations

import polars as pl

from .errors import QueryError, first_line
from .filter_check import checked_sql


def _one_line(text: str) -> str:
    return " ".join(text.split())


def parse(where: str, schema: pl.Schema | None = None) -> pl.Expr:
    """The filter as a polars expression; with the frame's `schema` its names are looked up
    first (bare keys, misspellings: store/filter_names.py)."""
    if not isinstance(where, str) or not where.strip():
        raise QueryError("empty filter expression")
    sql = checked_sql(where, schema)
    try:
        return pl.sql_expr(sql)
    except Exception as exc:  # noqa: BLE001 - polars raises many types for bad SQL
        raise QueryError(f"invalid filter {where!r}: {_one_line(str(exc))}") from None


def apply(frame: pl.DataFrame, where: str | None) -> pl.DataFrame:
    """Rows of `frame` for which `where` is true (null counts as false)."""
    if where is None or not where.strip():
        return frame
    expr = parse(where, frame.schema)
    try:
        return frame.filter(expr)
    except pl.exceptions.StructFieldNotFoundError as exc:
        raise QueryError(f"invalid filter {where!r}: no field {_one_line(str(exc))!r}") from None
    except pl.exceptions.ColumnNotFoundError as exc:
        raise QueryError(f"invalid filter {where!r}: no column {first_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - polars raises many types for bad SQL
        raise QueryError(f"invalid filter {where!r}: {first_line(exc)}") from None
