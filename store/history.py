"""Reading metric histories from a run's Parquet parts, and downsampling them for charts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from .errors import StoreError
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
        problems.append(Problem(str(path), f"unreadable Parquet part: {_first_line(exc)}"))
        return empty_history().drop("run_id")
    return df.select(
        pl.col("key").cast(pl.String),
        pl.col("step").cast(pl.Int64),
        pl.col("time").cast(pl.Datetime("us", "UTC")),
        pl.col("value").cast(pl.Float64),
    )


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def downsample(df: pl.DataFrame, max_points: int) -> pl.DataFrame:
    """Keep about `max_points` points per (run_id, key): the min and max of each bucket.

    Buckets split a series into equal runs of consecutive points; keeping both extremes of
    each (plus the first and last point) means a spike is never averaged away.
    """
    if max_points < 4:
        raise ValueError("max_points must be at least 4")
    buckets = max_points // 2
    df = df.sort("run_id", "key", "step", "time", maintain_order=True)
    group = ["run_id", "key"]
    df = df.with_columns(
        pl.int_range(pl.len()).over(group).alias("_i"),
        pl.len().over(group).alias("_n"),
    )
    small = df.filter(pl.col("_n") <= max_points)
    big = df.filter(pl.col("_n") > max_points)
    if big.height == 0:
        return small.drop("_i", "_n")
    big = big.with_columns((pl.col("_i") * buckets // pl.col("_n")).alias("_b"))
    keep = (
        big.group_by([*group, "_b"])
        .agg(
            pl.col("_i").get(pl.col("value").fill_nan(None).arg_min().fill_null(0)).alias("lo"),
            pl.col("_i").get(pl.col("value").fill_nan(None).arg_max().fill_null(0)).alias("hi"),
            pl.col("_i").first().alias("first"),
            pl.col("_i").last().alias("last"),
            pl.col("value").is_nan().any().alias("has_nan"),
            pl.col("_i").get(pl.col("value").is_nan().arg_max()).alias("nan_i"),
        )
        .with_columns(
            pl.when(pl.col("has_nan")).then(pl.col("nan_i")).otherwise(None).alias("nan_i")
        )
    )
    ends = big.group_by(group).agg(pl.col("_i").min().alias("a"), pl.col("_i").max().alias("b"))
    wanted = pl.concat(
        [
            keep.select(*group, pl.col("lo").alias("_i")),
            keep.select(*group, pl.col("hi").alias("_i")),
            keep.filter(pl.col("nan_i").is_not_null()).select(*group, pl.col("nan_i").alias("_i")),
            ends.select(*group, pl.col("a").alias("_i")),
            ends.select(*group, pl.col("b").alias("_i")),
        ]
    ).unique()
    picked = big.join(wanted, on=[*group, "_i"], how="semi").drop("_b")
    return pl.concat([small, picked]).sort("run_id", "key", "_i").drop("_i", "_n")
