"""`mmtop export`: runs table and metric histories, long and wide, read back exactly."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmtop import store
from mmtop.store import paths, schema

Point = tuple[str, str, str, str, int, dt.datetime, float]


def expected_points(root: Path, system: bool = False) -> list[Point]:
    st = store.open(root)
    runs = st.runs().select("run_id", "experiment", "name")
    hist = st.history(runs["run_id"].to_list(), system=system).join(runs, on="run_id")
    cols = ["run_id", "experiment", "name", "key", "step", "time", "value"]
    return sorted(hist.select(cols).iter_rows(), key=_order)


def _order(p: tuple[Any, ...]) -> tuple[Any, ...]:
    return (p[0], p[3], p[4])


def same_points(got: list[Any], want: list[Any]) -> None:
    assert len(got) == len(want)
    for g, w in zip(sorted(got, key=_order), want, strict=True):
        assert g[:6] == w[:6]
        assert (math.isnan(g[6]) and math.isnan(w[6])) or g[6] == w[6], (g, w)


def undefuse(text: str) -> str:
    return text[1:] if text[:1] == "'" and text[1:2] in "=+-@\t\r" else text


def test_history_csv_round_trips(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("export", "--root", sample.root, "--history")
    assert result.code == 0 and result.err == ""  # no progress bar without a terminal
    rows = list(csv.reader(io.StringIO(result.text, newline="")))
    assert rows[0] == ["run_id", "experiment", "name", "key", "step", "time", "value"]
    got = [
        (r[0], r[1], undefuse(r[2]), r[3], int(r[4]), dt.datetime.fromisoformat(r[5]), float(r[6]))
        for r in rows[1:]
    ]
    same_points(got, expected_points(sample.root))
    hostile = [r for r in rows if r[0] == sample.ids["hostile"]]
    assert {r[2] for r in hostile} == {'\'=HYPERLINK("http://evil.example","click")'}
    assert {r[6] for r in hostile if r[3] == "weird"} == {"NaN", "-inf"}


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_history_json_round_trips(cli: Callable[..., Any], sample: Any, fmt: str) -> None:
    result = cli("export", "--root", sample.root, "--history", "--format", fmt)
    assert result.code == 0, result.err
    docs = (
        json.loads(result.text)
        if fmt == "json"
        else [json.loads(x) for x in result.text.splitlines()]
    )
    got = [
        (
            d["run_id"],
            d["experiment"],
            d["name"],
            d["key"],
            d["step"],
            dt.datetime.fromisoformat(d["time"]),
            d["value"],
        )
        for d in docs
    ]
    same_points(got, expected_points(sample.root))


def test_history_parquet_round_trips(cli: Callable[..., Any], sample: Any, tmp_path: Path) -> None:
    out = tmp_path / "history.parquet"
    assert cli("export", "--root", sample.root, "--history", "-o", out).code == 0
    back = pl.read_parquet(out)
    assert back.schema["time"] == pl.Datetime("us", "UTC")
    same_points(list(back.iter_rows()), expected_points(sample.root))


def test_history_keeps_the_sorted_run_order(cli: Callable[..., Any], sample: Any) -> None:
    result = cli(
        "export", "--root", sample.root, "--history", "--sort", "-params.lr", "-f", "jsonl"
    )
    order: list[str] = []
    for line in result.text.splitlines():
        run_id = json.loads(line)["run_id"]
        if not order or order[-1] != run_id:
            order.append(run_id)
    ids = sample.ids
    assert order == [ids["sgd-0.1"], ids["sgd-0.01"], ids["sgd-0.001"], ids["hostile"]]


def test_keys_regex_and_where(cli: Callable[..., Any], sample: Any) -> None:
    result = cli(
        "export",
        "--root",
        sample.root,
        "--history",
        "--keys",
        "^val/",
        "-w",
        "experiment = 'digits'",
    )
    rows = list(csv.DictReader(io.StringIO(result.text, newline="")))
    assert {r["key"] for r in rows} == {"val/acc"}
    assert len(rows) == 15
    none = cli("export", "--root", sample.root, "--history", "--keys", "nothing-like-this")
    assert none.text == "run_id,experiment,name,key,step,time,value\n"


def test_wide_matches_a_direct_pivot(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("export", "--root", sample.root, "--history", "--wide", "-f", "parquet", "-o", "-")
    wide = pl.read_parquet(io.BytesIO(result.out))
    st = store.open(sample.root)
    hist = st.history(list(sample.ids.values()))
    assert wide.columns[:5] == ["run_id", "experiment", "name", "step", "time"]
    assert set(wide.columns[5:]) == set(hist["key"].unique()) | {"test/acc"}
    assert wide["test/acc"].null_count() == wide.height  # a summary value has no history
    assert wide.height == hist.select("run_id", "step").unique().height
    for run_id, key, step, value in hist.select("run_id", "key", "step", "value").iter_rows():
        cell = wide.filter((pl.col("run_id") == run_id) & (pl.col("step") == step))[key].item()
        assert (math.isnan(cell) and math.isnan(value)) or cell == value
    times = hist.group_by("run_id", "step").agg(pl.col("time").min())
    joined = wide.join(times, on=["run_id", "step"], suffix="_min")
    assert (joined["time"] == joined["time_min"]).all()


def test_wide_csv_header_defuses_key_names(cli: Callable[..., Any], tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    with store.Run(experiment="e", name="n", root=root) as run:
        run.log({"=cmd()": 1.0, "step": 2.0}, step=3)
    text = cli("export", "--root", root, "--history", "--wide").text
    header, row = text.splitlines()[:2]
    assert header == "run_id,experiment,name,step,time,'=cmd(),step (metric)"
    assert row.endswith(",3," + row.split(",")[4] + ",1.0,2.0")


def write_system_part(run_path: Path, points: list[tuple[int, str, float]]) -> None:
    folder = run_path / paths.SYSTEM_DIR
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    table = pa.table(
        {
            "step": [p[0] for p in points],
            "time": [now + dt.timedelta(seconds=p[0]) for p in points],
            "key": [p[1] for p in points],
            "value": [p[2] for p in points],
        },
        schema=schema.POINT_SCHEMA,
    )
    pq.write_table(table, folder / paths.part_name("sys1", 1))


def test_system_metrics(cli: Callable[..., Any], fresh: Any) -> None:
    info = store.open(fresh.root).run(fresh.ids["sgd-0.1"])
    write_system_part(Path(info.path), [(0, "cpu", 12.5), (0, "gpu0/mem", 0.25), (1, "cpu", 50.0)])
    result = cli("export", "--root", fresh.root, "--history", "--system", "-f", "jsonl")
    docs = [json.loads(x) for x in result.text.splitlines()]
    got = [
        tuple(d[k] for k in ("run_id", "experiment", "name", "key", "step"))
        + (dt.datetime.fromisoformat(d["time"]), d["value"])
        for d in docs
    ]
    same_points(got, expected_points(fresh.root, system=True))
    mine = [(d["key"], d["step"], d["value"]) for d in docs if d["key"] in ("cpu", "gpu0/mem")]
    assert mine == [("cpu", 0, 12.5), ("cpu", 1, 50.0), ("gpu0/mem", 0, 0.25)]
    wide = cli("export", "--root", fresh.root, "--history", "--system", "--wide", "--keys", "^cpu$")
    lines = wide.text.splitlines()
    assert lines[0] == "run_id,experiment,name,step,time,cpu"
    assert [line.split(",")[-1] for line in lines[1:]] == ["12.5", "50.0"]


def test_runs_table_export_by_extension(
    cli: Callable[..., Any], sample: Any, tmp_path: Path
) -> None:
    for name in ("runs.csv", "runs.parquet", "runs.json", "runs.jsonl"):
        assert cli("export", "--root", sample.root, "-o", tmp_path / name).code == 0
    assert pl.read_parquet(tmp_path / "runs.parquet").height == 4
    assert len(json.loads((tmp_path / "runs.json").read_text())) == 4
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 4
    text = (tmp_path / "runs.csv").read_text()
    assert text.startswith("run_id,experiment,name,status,created,")
    assert not list(tmp_path.glob(".*.tmp"))  # written aside, then renamed


def test_export_usage_errors(cli: Callable[..., Any], sample: Any, tmp_path: Path) -> None:
    assert cli("export", "--root", sample.root, "--keys", "x").code == 2
    assert cli("export", "--root", sample.root, "--history", "-c", "name").code == 2
    assert cli("export", "--root", sample.root, "-o", tmp_path / "a", tmp_path / "b").code == 2
    assert cli("export", "--root", sample.root, "--history", "--keys", "(").code == 2
    nowhere = cli("export", "--root", sample.root, "-o", tmp_path / "no" / "such" / "x.csv")
    assert nowhere.code == 1
    # The user's path and the missing folder, never the temporary file written first.
    target = tmp_path / "no" / "such" / "x.csv"
    assert nowhere.err == (
        f"mmtop: error: cannot write {str(target)!r}: no folder {str(target.parent)!r}\n"
    )
    assert ".tmp" not in nowhere.err


def test_an_output_name_without_a_known_extension_is_a_usage_error(
    cli: Callable[..., Any], sample: Any, tmp_path: Path
) -> None:
    for command in ("export", "ls"):
        result = cli(command, "--root", sample.root, "-o", tmp_path / "runs.xlsx")
        assert result.code == 2, command
        assert "no format goes with '.xlsx'; give --format (" in result.err
        assert not (tmp_path / "runs.xlsx").exists()
    assert cli("export", "--root", sample.root, "-o", tmp_path / "runs").code == 2
    # The extension picks the format; --format wins over it.
    assert cli("ls", "--root", sample.root, "-o", tmp_path / "r.json").code == 0
    assert (tmp_path / "r.json").read_text().startswith("[")
    assert cli("ls", "--root", sample.root, "-f", "csv", "-o", tmp_path / "r.xlsx").code == 0
    assert (tmp_path / "r.xlsx").read_text().startswith("run_id,")
