"""`mmtop sql`: polars SQL over the runs, metrics and system tables, written like `mmtop ls`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from mmtop import store
from mmtop.store import sql

BEST = (
    "SELECT run_id, max(value) AS best FROM metrics "
    "WHERE key = 'val/acc' AND experiment = 'digits' GROUP BY run_id ORDER BY run_id"
)


def test_best_metric_per_run_matches_the_histories(cli: Callable[..., Any], sample: Any) -> None:
    res = cli("sql", BEST, "--root", sample.root, "-f", "json")
    assert res.code == 0, res.err
    got = json.loads(res.text)
    st = store.open(sample.root)
    runs = st.runs().filter(pl.col("experiment") == "digits")
    h = st.history(runs["run_id"].to_list(), keys="val/acc")
    want = h.group_by("run_id").agg(best=pl.col("value").max()).sort("run_id")
    assert got == want.to_dicts()
    assert len(got) == runs.filter(pl.col("metrics").struct.field("val/acc").is_not_null()).height


def test_runs_table_has_params_and_metrics_as_structs(cli: Callable[..., Any], sample: Any) -> None:
    q = "SELECT name, params.lr, params.model FROM runs WHERE params.lr >= 0.01 ORDER BY name"
    res = cli("sql", q, "--root", sample.root, "-f", "csv")
    assert res.code == 0, res.err
    assert res.text.splitlines() == [  # a struct selected whole is flattened as in `ls`
        "name,lr,model.depth,model.kind",
        "sgd-0.01,0.01,3,sgd",
        "sgd-0.1,0.1,2,sgd",
    ]


def test_points_are_counted_once_when_covered_parts_are_left_behind(
    cli: Callable[..., Any], fresh: Any
) -> None:
    st = store.open(fresh.root)
    folder = Path(st.run(fresh.ids["sgd-0.1"]).path) / "metrics"
    (merged,) = [p for p in folder.glob("*.parquet")]
    writer = merged.name.split("-")[0]
    if merged.name.count("-") == 1:  # one part only: make it a merged range of two
        merged = merged.rename(folder / f"{writer}-000001-000002.parquet")
    pl.read_parquet(merged).head(3).write_parquet(folder / f"{writer}-000001.parquet")
    want = st.history(fresh.ids["sgd-0.1"]).height
    got = sql.sql(
        fresh.root, f"SELECT count(*) AS n FROM metrics WHERE run_id = '{fresh.ids['sgd-0.1']}'"
    )
    assert got["n"].to_list() == [want]


def test_bad_query_is_a_one_line_usage_error(cli: Callable[..., Any], sample: Any) -> None:
    for q in ["SELEC 1", "SELECT nope FROM runs", "SELECT * FROM elsewhere", "   "]:
        res = cli("sql", q, "--root", sample.root)
        assert res.code == 2, (q, res.err)
        assert res.err.startswith("mmtop: error: bad SQL query: "), res.err
        assert res.err.count("\n") == 1
        assert res.out == b""


def test_system_table_and_empty_results(cli: Callable[..., Any], fresh: Any) -> None:
    n = sql.sql(fresh.root, "SELECT count(*) AS n FROM system")["n"].to_list()
    st = store.open(fresh.root)
    ids = st.runs()["run_id"].to_list()
    assert n == [st.history(ids, system=True).height]
    res = cli("sql", "SELECT run_id FROM metrics WHERE value > 1e300", "--root", fresh.root)
    assert res.code == 0 and res.text.splitlines()[0].strip() == "run_id"


def test_output_file_takes_its_format_from_the_extension(
    cli: Callable[..., Any], sample: Any, tmp_path: Path
) -> None:
    out = tmp_path / "names.csv"
    q = "SELECT name FROM runs WHERE experiment = 'digits' ORDER BY name"
    res = cli("sql", q, "--root", sample.root, "-o", out)
    assert res.code == 0, res.err
    assert out.read_text().splitlines() == ["name", "sgd-0.001", "sgd-0.01", "sgd-0.1"]
