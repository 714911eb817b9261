"""docs/ENGINES.md's Spark SQL, run as written by PySpark in local mode (needs Java 17+).

Behind the `spark` marker: pyspark is a 490 MB download and a local session takes 20-60 s to
start on a loaded 2-core box, too much for every run of the suite; CI runs it in its own
step (`pytest -m spark`) when pyspark and Java are installed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pytest

pytestmark = pytest.mark.spark

pyspark_sql = pytest.importorskip("pyspark.sql")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (java not on PATH)", allow_module_level=True)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("mmtop-engines")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_points_query_matches_mmtop(
    spark: Any, engine_sql: Callable[[str], str], engine_points: pl.DataFrame
) -> None:
    spark.sql(engine_sql("spark-points-view"))
    rows = spark.sql(engine_sql("spark-points")).collect()
    got = pl.DataFrame(
        [r.asDict() for r in rows],
        schema={
            "run_id": pl.String,
            "experiment": pl.String,
            "step": pl.Int64,
            "time": pl.Datetime("us"),
            "key": pl.String,
            "value": pl.Float64,
        },
        orient="row",
    )
    cols = ["run_id", "experiment", "step", "key", "value"]
    assert got.height == engine_points.height
    assert got.select(cols).equals(engine_points.select(cols))
    assert got["time"].to_list() == engine_points["time"].dt.replace_time_zone(None).to_list()
