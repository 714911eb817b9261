"""Reading metric histories from a run's Parquet parts, and downsampling them for charts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from .errors import StoreError, first_line
from .parts import list_parts
from .records import Problem

HISTORY_SCHEMA = {
    "run_id": pl.String(),
    "key": pl.String(),
    "step": pl.Int64(),
    "time": pl.Datetime("us", "UTC"),
    "value": pl.Float64(),
}


def empty_history() -> pl.DataFrame:
    return pl.DataFrame(schema=HISTORY_SCHEMA)


def read_histories(
    folders: dict[str, Path], keys: Sequence[str] | None, problems: list[Problem]
) -> pl.DataFrame:
    """All points in the parts folders of several runs (run_id -> folder), in one scan.

    Polars reads the files in parallel; if a compaction swaps parts between listing and
    reading, the folders are listed again. A part that cannot be parsed is reported and
    the others are read one by one.
    """
    for _attempt in range(5):
        owner: dict[str, str] = {}
        for run_id, folder in folders.items():
            for part in list_parts(folder):
                owner[str(part.path)] = run_id
        if not owner:
            return empty_history()
        try:
            lf = pl.scan_parquet(list(owner), include_file_paths="_file")
            if keys is not None:
                lf = lf.filter(pl.col("key").cast(pl.String).is_in(list(keys)))
            df = lf.collect()
        except FileNotFoundError:
            continue
        except Exception:
            if any(not Path(f).exists() for f in owner):
                continue
            found: list[Problem] = []
            try:
                df = _read_one_by_one(owner, keys, found)
            except FileNotFoundError:
                continue  # a part was compacted away while we read: its points moved, list again
            problems.extend(found)
            return df
        return df.select(
            pl.col("_file").replace_strict(owner, return_dtype=pl.String).alias("run_id"),
            pl.col("key").cast(pl.String),
            pl.col("step").cast(pl.Int64),
            pl.col("time").cast(pl.Datetime("us", "UTC")),
            pl.col("value").cast(pl.Float64),
        )
    raise StoreError("the runs' parts kept changing while being read (5 attempts); try again")


def _read_one_by_one(
    owner: dict[str, str], keys: Sequence[str] | None, problems: list[Problem]
) -> pl.DataFrame:
    frames = []
    for path, run_id in owner.items():
        df = _read_part(Path(path), keys, problems)
        frames.append(df.with_columns(pl.lit(run_id).alias("run_id")).select(list(HISTORY_SCHEMA)))
    return pl.concat(frames) if frames else empty_history()


def _read_part(path: Path, keys: Sequence[str] | None, problems: list[Problem]) -> pl.DataFrame:
    try:
        lf = pl.scan_parquet(path)
        if keys is not None:
            lf = lf.filter(pl.col("key").cast(pl.String).is_in(list(keys)))
        df = lf.collect()
    except FileNotFoundError:
        raise
    except Exception as exc:
        if not path.exists():
            raise FileNotFoundError(path) from exc
        problems.append(Problem(str(path), f"unreadable Parquet part: {first_line(exc)}"))
        return empty_history().drop("run_id")
    return df.select(
        pl.col("key").cast(pl.String),
        pl.col("step").cast(pl.Int64),
        pl.col("time").cast(pl.Datetime("us", "UTC")),
        pl.col("value").cast(pl.Float64),
    )


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
