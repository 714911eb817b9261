"""Cutting a prediction log into windows: by time ("30m", "1h", "1d") or by count ("5000")."""

from __future__ import annotations

import re

import polars as pl

from . import layout

_DURATION = re.compile(r"([1-9][0-9]*)(m|h|d)")
WINDOW_COLUMN = "window"


def check_window(window: str | int) -> str | int:
    """A duration like "1h" (minutes m, hours h, days d) or a number of predictions."""
    if isinstance(window, int) and not isinstance(window, bool):
        if window < 1:
            raise ValueError(f"window must be >= 1 prediction: {window}")
        return window
    text = str(window).strip()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    if _DURATION.fullmatch(text):
        return text
    raise ValueError(
        f"bad window {window!r}: a duration like 30m, 1h, 1d, or a number of predictions"
    )


def assign(frame: pl.DataFrame, window: str | int) -> pl.DataFrame:
    """`frame` (sorted by time) with columns `window` (0, 1, ...), `start` and `end`: the
    window's time span (for a count window, its first and last prediction's times). Each
    window is one contiguous run of rows (see `spans`)."""
    if isinstance(window, int):
        frame = frame.with_columns(
            (pl.int_range(pl.len(), dtype=pl.Int64) // window).alias(WINDOW_COLUMN)
        )
        return frame.with_columns(
            pl.col(layout.TIME).min().over(WINDOW_COLUMN).alias("start"),
            pl.col(layout.TIME).max().over(WINDOW_COLUMN).alias("end"),
        )
    start = pl.col(layout.TIME).dt.truncate(window)
    return frame.with_columns(
        start.rle_id().cast(pl.Int64).alias(WINDOW_COLUMN),
        start.alias("start"),
        start.dt.offset_by(window).alias("end"),
    )


def spans(frame: pl.DataFrame) -> list[tuple[int, int, int]]:
    """(window, offset, rows) of each window of a frame `assign` made, in order: a window
    is then `frame.slice(offset, rows)`, a view, not a copy."""
    runs = frame.select(pl.col(WINDOW_COLUMN).rle()).unnest(WINDOW_COLUMN)
    out: list[tuple[int, int, int]] = []
    offset = 0
    for run in runs.iter_rows(named=True):
        out.append((int(run["value"]), offset, int(run["len"])))
        offset += run["len"]
    return out
