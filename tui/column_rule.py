"""Which columns a runs table shows, in which order, and which give way when it is narrow.

One rule for the app's runs table and `mmtop ls` on a terminal. It works on the flat runs
frame (tui/flat.py) of the runs on show, whatever the store's caches look like.

Order (which is also the priority: the last columns are the first to go):
status, name, the caller's identity columns (`ls` shows `run_id`), the last value of every
metric, the params whose values differ between the runs shown, then age, duration, step,
tags and experiment.

Metrics: the one the table is sorted by comes first; then the metrics the newest run shown
logged, before those only older runs have; within each, those whose value differs between
the runs before those with one value throughout; then by name.

Fitting: columns are kept in order while their narrowest form fits; the first that does
not fit and every column after it are dropped, so a column is never half drawn and a
column is never shown while one before it is dropped. Numbers and ids have no narrower
form; free text can give way down to a floor and then ends in `…`.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

LEAD: tuple[str, ...] = ("status", "name")
TRAIL: tuple[str, ...] = ("created", "duration_s", "last_step", "tags", "experiment")
METRIC = "metrics."
PARAM = "params."


def _differing(shown: pl.DataFrame, keys: list[str]) -> set[str]:
    """Keys whose value is not the same on every row of `shown` (all of them for one row:
    nothing to compare it with, and its params are what tell it apart)."""
    if shown.height <= 1:
        return set(keys)
    schema = shown.schema  # once: each lookup of `.schema` converts every column's type
    exprs = []
    for k in keys:
        col = pl.col(k)
        if isinstance(schema[k], (pl.List, pl.Array, pl.Object, pl.Struct)):
            col = col.cast(pl.String, strict=False)
        exprs.append(col.n_unique().alias(k))
    try:
        counts = shown.select(exprs).row(0)
    except pl.exceptions.PolarsError:
        return set(keys)
    return {k for k, n in zip(keys, counts, strict=True) if n > 1}


def _present(shown: pl.DataFrame, keys: list[str]) -> list[str]:
    """Keys with at least one value in `shown`."""
    if not keys or shown.height == 0:
        return []
    counts = shown.select([pl.col(k).null_count().alias(k) for k in keys]).row(0)
    return [k for k, n in zip(keys, counts, strict=True) if n < shown.height]


def differing(shown: pl.DataFrame, keys: list[str]) -> list[str]:
    """`keys` whose value differs between the rows of `shown`, in their order."""
    varying = _differing(shown, keys)
    return [k for k in keys if k in varying]


def _newest_row(shown: pl.DataFrame) -> int | None:
    if shown.height == 0 or "created" not in shown.columns:
        return None
    index = shown.get_column("created").arg_max()
    return None if index is None else int(index)


def metric_order(shown: pl.DataFrame, keys: list[str], first: Sequence[str] = ()) -> list[str]:
    """Metric columns (`metrics.KEY`) of `shown` that hold a value, in the order above.

    `first` names columns the user chose (the sort column): they lead, in their order."""
    present = _present(shown, keys)
    if not present:
        return []
    newest = _newest_row(shown)
    logged_by_newest: set[str] = set()
    if newest is not None:
        row = shown.select(present).row(newest)
        logged_by_newest = {k for k, v in zip(present, row, strict=True) if v is not None}
    varies = _differing(shown, present)
    lead = [k for k in first if k in present]
    rest = [k for k in present if k not in lead]
    rest.sort(key=lambda k: (k not in logged_by_newest, k not in varies, k))
    return lead + rest


def default_columns(
    shown: pl.DataFrame, *, first: Sequence[str] = (), identity: Sequence[str] = ()
) -> list[str]:
    """The columns of the flat frame `shown` a runs table shows by default, in order."""
    names = shown.columns
    params = [c for c in names if c.startswith(PARAM)]
    metrics = [c for c in names if c.startswith(METRIC)]
    varying = _differing(shown, params)
    return [
        *(c for c in LEAD if c in names),
        *(c for c in identity if c in names and c not in LEAD),
        *metric_order(shown, metrics, first),
        *(c for c in params if c in varying),
        *(c for c in TRAIL if c in names),
    ]


def fit(natural: Sequence[int], floor: Sequence[int], room: int, gap: int) -> list[int]:
    """Widths of the leading columns that fit in `room` cells, `gap` cells apart.

    A column is kept while its floor (its narrowest whole form) still fits; the rest are
    dropped. Room left over widens the kept columns toward their natural width, the first
    columns first."""
    kept: list[int] = []
    used = 0
    for n, f in zip(natural, floor, strict=True):
        low = min(n, f)
        need = low + (gap if kept else 0)
        if used + need > room:
            break
        kept.append(low)
        used += need
    spare = room - used
    for i, n in enumerate(natural[: len(kept)]):
        more = min(n - kept[i], spare)
        if more > 0:
            kept[i] += more
            spare -= more
    return kept
