"""Reading metric histories from a run's Parquet parts, and downsampling them for charts."""

from __future__ import annotations

import polars as pl

from .points import HISTORY_SCHEMA, Verified, empty_history, read_histories

__all__ = ["HISTORY_SCHEMA", "Verified", "downsample", "empty_history", "read_histories"]


def downsample(df: pl.DataFrame, max_points: int) -> pl.DataFrame:
    """Keep about `max_points` points per (run_id, key): the min and max of each bucket.

    Buckets split a series into equal runs of consecutive points; keeping both extremes of
    each (and the first and last point, and the first NaN of a bucket so gaps stay visible)
    means a spike is never averaged away. Vectorised with numpy over all series at once.
    """
    if max_points < 4:
        raise ValueError("max_points must be at least 4")
    import numpy as np

    df = df.sort("run_id", "key", "step", "time", maintain_order=True)
    n = df.height
    if n == 0:
        return df
    series = df.select(pl.struct("run_id", "key").rank("dense").cast(pl.Int64).alias("s"))[
        "s"
    ].to_numpy()
    starts = np.flatnonzero(np.r_[True, series[1:] != series[:-1]])
    lengths = np.diff(np.r_[starts, n])
    if lengths.max() <= max_points:
        return df
    buckets = max_points // 2
    seg = np.repeat(np.arange(len(starts)), lengths)
    offset = np.arange(n) - starts[seg]
    per_series = np.minimum(lengths, buckets)  # short series: one point per bucket
    group = seg * buckets + offset * per_series[seg] // lengths[seg]
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    values = df["value"].to_numpy()
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduceat(values, bounds)
        hi = np.fmax.reduceat(values, bounds)
    which = np.repeat(np.arange(len(bounds)), np.diff(np.r_[bounds, n]))
    keep = np.zeros(n, dtype=bool)
    for mask in (values == lo[which], values == hi[which], np.isnan(values)):
        hits = np.flatnonzero(mask)
        _, first = np.unique(which[hits], return_index=True)  # first hit in each bucket
        keep[hits[first]] = True
    keep[starts] = True
    keep[starts + lengths - 1] = True
    keep |= lengths[seg] <= max_points  # short series stay whole
    return df.filter(pl.Series(keep))
