"""docs/ENGINES.md's DuckDB queries, run as written, agree with mmtop's own reader."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from mmtop import store

duckdb = pytest.importorskip("duckdb")


def _frame(sql: str) -> pl.DataFrame:
    con = duckdb.connect()
    try:
        out: pl.DataFrame = con.sql(sql).pl()
        return out
    finally:
        con.close()


def test_points_query_reads_every_point_once_with_run_and_experiment(
    engine_sql: Callable[[str], str], engine_points: pl.DataFrame
) -> None:
    got = _frame(engine_sql("duckdb-points"))
    want = engine_points
    assert got.height == want.height == 4 * 2 * 30
    assert got.select(pl.col("time").dt.convert_time_zone("UTC")).to_series().equals(want["time"])
    cols = ["run_id", "experiment", "step", "key", "value"]
    assert got.select(cols).equals(want.select(cols))
    assert sorted(set(got["experiment"].to_list())) == ["digits", "mnist", "moved"]


def test_runs_query_matches_the_runs_frame(
    engine_store: Path, engine_sql: Callable[[str], str]
) -> None:
    got = _frame(engine_sql("duckdb-runs"))
    runs = store.open(engine_store, cache=False).runs().sort("run_id")
    assert got["run_id"].to_list() == runs["run_id"].to_list()
    assert got["experiment"].to_list() == runs["experiment"].to_list()
    assert got["name"].to_list() == runs["name"].to_list()
    assert got["status"].to_list() == ["finished"] * 4
    assert [list(t or []) for t in got["tags"].to_list()] == runs["tags"].to_list()
    params = [json.loads(p) for p in got["params"].to_list()]
    assert [p["lr"] for p in params] == runs["params"].struct.field("lr").to_list()
    assert [p["opt"]["name"] for p in params] == (
        runs["params"].struct.field("opt").struct.field("name").to_list()
    )
    assert got["created"].dt.convert_time_zone("UTC").to_list() == runs["created"].to_list()


def test_best_metric_per_run_of_an_experiment(
    engine_sql: Callable[[str], str], engine_points: pl.DataFrame
) -> None:
    con = duckdb.connect()
    try:
        con.execute("CREATE VIEW points AS " + engine_sql("duckdb-points"))
        got = con.sql(engine_sql("duckdb-best")).pl()
    finally:
        con.close()
    want = (
        engine_points.filter(pl.col("experiment") == "digits", pl.col("key") == "val/acc")
        .group_by("run_id")
        .agg(best=pl.col("value").max())
        .sort(["best", "run_id"], descending=[True, False])
    )
    assert got.equals(want)
