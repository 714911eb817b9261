"""Keyed columns: a struct column of one type held as a fixed-size array per row, its field
names (the keys) beside the frame.

The runs frame's metric summaries and dataset fingerprints are structs with one field per
key. A run that logged 100k metric keys makes 300k struct fields, and polars (and Parquet)
pay per field for nearly everything: reading a schema, selecting, writing. So the reader
keeps these columns as `Array(dtype, len(keys))` (a null cell stays null, distinct from NaN)
and makes structs of them only for the columns a caller asks for (`Keyed.structs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

# The runs frame's keyed columns and the type of their values.
KEYED: dict[str, pl.DataType] = {
    "datasets": pl.String(),
    "metrics": pl.Float64(),
    "metrics_min": pl.Float64(),
    "metrics_max": pl.Float64(),
}


def keyed_column(
    name: str, rows: list[dict[str, Any]], dtype: pl.DataType, keys: list[str] | None = None
) -> tuple[pl.Series, list[str]]:
    """An array column with one cell per key seen in any row (null where a row lacks it);
    `keys`, when the caller knows them, are those keys sorted."""
    if keys is None:
        keys = sorted({k for r in rows for k in r})
    # One Series for every (row, key) cell, cut into rows in one call: a Series per key
    # costs tens of microseconds each, seconds for a run with 100k metric keys.
    cells = pl.Series(name, [r.get(k) for r in rows for k in keys], dtype=dtype)
    return cells.reshape((len(rows), len(keys))).alias(name), keys


def take_keys(column: pl.Series, width: int, positions: Sequence[int | None]) -> pl.Series:
    """Each row's cells at `positions` (None: a null cell), as an array column."""
    n = len(column)
    if n == 0 or not positions or width == 0:
        return blank(column.name, n, len(positions))
    # Cell j of the result is row j // m, key position positions[j % m] (null stays null).
    m = len(positions)
    j = pl.int_range(0, n * m, dtype=pl.Int64, eager=True)
    pos = pl.Series(positions, dtype=pl.Int64)
    cells = column.reshape((n * width,)).gather((j // m) * width + pos.gather(j % m))
    return cells.reshape((n, len(positions))).alias(column.name)


@dataclass(frozen=True)
class Keyed:
    """A runs frame whose keyed columns are arrays, and the keys of each."""

    frame: pl.DataFrame
    keys: dict[str, list[str]]

    @property
    def height(self) -> int:
        return self.frame.height

    def with_frame(self, frame: pl.DataFrame) -> Keyed:
        """The same keys over `frame` (the rows filtered or sorted, other columns changed)."""
        return Keyed(frame, {c: k for c, k in self.keys.items() if c in frame.columns})

    def select(self, columns: Iterable[str]) -> Keyed:
        return self.with_frame(self.frame.select(columns))

    def aligned(self, keys: dict[str, list[str]]) -> Keyed:
        """Every keyed column widened or narrowed to `keys` (absent keys: null cells)."""
        changes = []
        for name, want in keys.items():
            have = self.keys.get(name)
            if have == want:
                continue
            if have is None:
                changes.append(blank(name, self.frame.height, len(want)))
                continue
            where = {k: i for i, k in enumerate(have)}
            changes.append(take_keys(self.frame[name], len(have), [where.get(k) for k in want]))
        if not changes:
            return self
        frame = self.frame.with_columns(changes)
        return Keyed(frame, {**self.keys, **keys})

    def without_empty_keys(self) -> Keyed:
        """Keys no row has a value for (left by runs that went away) dropped."""
        keys = dict(self.keys)
        changes = []
        for name, have in self.keys.items():
            if not have:
                continue
            n = self.frame.height
            cells = self.frame[name].reshape((n * len(have),))
            kept = (cells.is_not_null().arg_true() % len(have)).unique().sort().to_list()
            if len(kept) == len(have):
                continue
            keys[name] = [have[i] for i in kept]
            changes.append(take_keys(self.frame[name], len(have), kept))
        return Keyed(self.frame.with_columns(changes), keys) if changes else self

    def structs(self, only: Iterable[str] | None = None) -> pl.DataFrame:
        """The frame with keyed columns as structs, as `Store.runs()` gives it; with `only`,
        just those keyed columns become structs and the other keyed columns are left out."""
        wanted = set(self.keys) if only is None else set(only) & set(self.keys)
        drop = [c for c in self.keys if c not in wanted]
        return self.frame.drop(drop).with_columns(
            _struct(self.frame[name], self.keys[name]) for name in self.keys if name in wanted
        )


def blank(name: str, rows: int, width: int) -> pl.Series:
    """A keyed column of null cells."""
    cells = pl.Series(name, [None] * (rows * width), dtype=KEYED[name])
    return cells.reshape((rows, width))


def _struct(column: pl.Series, keys: list[str]) -> pl.Series:
    if not keys:
        return pl.Series(column.name, [None] * len(column), dtype=pl.Struct([]))
    return column.arr.to_struct(keys).alias(column.name)
