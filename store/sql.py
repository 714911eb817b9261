"""`store.sql(root, query)` and `mmtop sql`: SQL over a store's tables with polars' SQL context.

Tables:

- `runs`: the runs frame (`Store.runs()`), params and metric summaries as structs
  (`params.lr`, `metrics."val/acc"`).
- `metrics`, `system`: every point, long: `run_id`, `experiment`, `step`, `time`, `key`,
  `value`. Scanned lazily from the Parquet parts a reader would read (parts superseded by a
  compacted one are left out), so polars streams them and pushes filters and projections
  into the scan.

The run id and experiment of a point are those of the folder its part is in, as for every
reader (docs/FORMAT.md: the folders are the truth).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from . import paths
from .errors import QueryError
from .parts import list_parts
from .reader import Store
from .reader import open as open_store

TABLES = ("runs", "metrics", "system")
_FILE = "__mmtop_file"


def points(runs: pl.DataFrame, sub: str) -> pl.LazyFrame:
    """The points of these runs' `sub` folder (metrics or system), as one lazy scan."""
    files: list[str] = []
    owners: dict[str, list[str]] = {"run_id": [], "experiment": []}
    for run_id, experiment, folder in runs.select("run_id", "experiment", "path").iter_rows():
        for part in list_parts(Path(folder) / sub):
            files.append(str(part.path))
            owners["run_id"].append(run_id)
            owners["experiment"].append(experiment)
    schema: dict[str, pl.DataType] = {
        "run_id": pl.String(),
        "experiment": pl.String(),
        "step": pl.Int64(),
        "time": pl.Datetime("us", "UTC"),
        "key": pl.String(),
        "value": pl.Float64(),
    }
    if not files:
        return pl.LazyFrame(schema=schema)
    owner = pl.LazyFrame({_FILE: files, **owners})
    scan = pl.scan_parquet(
        files,
        glob=False,
        include_file_paths=_FILE,
        cast_options=pl.ScanCastOptions(categorical_to_string="allow"),
        missing_columns="insert",
    )
    return (
        scan.with_columns(pl.col("key").cast(pl.String))
        .join(owner, on=_FILE, how="left")
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
    )


def context(store: Store) -> pl.SQLContext[pl.LazyFrame]:
    runs = store.runs()
    store.fetch_runs(runs["run_id"].to_list())  # their parts are read from the folders
    return pl.SQLContext(
        {
            "runs": runs.lazy(),
            "metrics": points(runs, paths.METRICS_DIR),
            "system": points(runs, paths.SYSTEM_DIR),
        },
        eager=False,
    )


def query(store: Store, text: str) -> pl.DataFrame:
    """The result of one SQL query over the store's tables; a bad query is a QueryError."""
    if not text.strip():
        raise QueryError("empty SQL query")
    try:
        lazy = context(store).execute(text)
        return lazy.collect(engine="streaming")
    except (pl.exceptions.PolarsError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QueryError(f"SQL: {first}") from None


def sql(root: str | os.PathLike[str] | Store, text: str) -> pl.DataFrame:
    """Run `text` (SQL) over the tables `runs`, `metrics` and `system` of the store."""
    st = root if isinstance(root, Store) else open_store(root)
    return query(st, text)
