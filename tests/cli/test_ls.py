"""`mmtop ls`: every format read back and compared exactly with the store API; filters, sorts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mmtop import store
from mmtop.tui.cli.frames import flatten
from mmtop.tui.safe_text import clean

ANSI = re.compile(r"\x1b\[")


def runs_flat(root: Any, where: str | None = None) -> pl.DataFrame:
    return flatten(store.open(root).runs(where=where)).frame


def same_float(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return (math.isnan(a) and math.isnan(b)) or a == b


def parse_cell(text: str, dtype: pl.DataType) -> Any:
    """A CSV cell back to the value the store holds (the writer's documented encoding)."""
    if text == "":
        return None
    if dtype == pl.Float64:
        return float(text)
    if dtype == pl.Int64:
        return int(text)
    if dtype == pl.Boolean:
        return text == "true"
    if isinstance(dtype, pl.Datetime):
        return dt.datetime.fromisoformat(text)
    if isinstance(dtype, pl.List):
        return json.loads(text)
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@", "\t", "\r") else text


def test_csv_round_trips_every_value_exactly_text_made_inert(
    cli: Callable[..., Any], sample: Any
) -> None:
    result = cli("ls", "--root", sample.root, "--format", "csv", "--sort", "created")
    assert result.code == 0, result.err
    rows = list(csv.reader(io.StringIO(result.text, newline="")))
    expected = runs_flat(sample.root).sort("created")
    assert rows[0] == expected.columns
    assert len(rows) - 1 == expected.height
    compared = 0
    for line, want in zip(rows[1:], expected.iter_rows(named=True), strict=True):
        for name, text in zip(rows[0], line, strict=True):
            got = parse_cell(text, expected.schema[name])
            if expected.schema[name] == pl.Float64:
                assert same_float(got, want[name]), (name, text, want[name])
            elif isinstance(want[name], str):
                # Text is exact unless it holds control characters (made inert, docs/CLI.md).
                assert got == clean(want[name]), (name, text, want[name])
            else:
                assert got == (want[name] if want[name] != [] else []), (name, text, want[name])
            compared += 1
    assert compared > 100


def test_csv_defuses_formulas_but_not_numbers(cli: Callable[..., Any], sample: Any) -> None:
    result = cli(
        "ls",
        "--root",
        sample.root,
        "-f",
        "csv",
        "-w",
        "experiment = 'mnist'",
        "-c",
        "name,^params\\.,metrics.val/loss",
    )
    assert result.code == 0, result.err
    row = next(csv.DictReader(io.StringIO(result.text, newline="")))
    assert row["name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["params.formula"] == "'@SUM(A1:A2)"
    assert row["params.negative_text"] == "-0.5"  # text that is a number stays as it is
    assert row["params.escape"] == "red\u2407"  # escapes dropped, the bell shown (as in tables)
    assert row["metrics.val/loss"] == "inf"


def test_json_nests_params_and_keeps_floats(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("ls", "--root", sample.root, "--format", "json", "--sort", "created")
    assert result.code == 0, result.err
    docs = json.loads(result.text)
    runs = store.open(sample.root).runs().sort("created")
    assert [d["run_id"] for d in docs] == runs["run_id"].to_list()
    for doc, want in zip(docs, runs.iter_rows(named=True), strict=True):
        for key, value in want["metrics"].items():
            assert same_float(doc["metrics"][key], value), key
        assert doc["params"] == want["params"]
        assert dt.datetime.fromisoformat(doc["created"]) == want["created"]
        assert doc["tags"] == want["tags"]
    hostile = next(d for d in docs if d["experiment"] == "mnist")
    assert hostile["metrics"]["weird"] == -math.inf
    assert hostile["name"] == '=HYPERLINK("http://evil.example","click")'  # JSON is data


def test_jsonl_one_object_per_line(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("ls", "--root", sample.root, "--format", "jsonl", "-c", "run_id,params.lr")
    lines = result.text.splitlines()
    assert len(lines) == 4
    objs = [json.loads(line) for line in lines]
    lrs = {o["run_id"]: o["params"]["lr"] for o in objs}
    assert lrs[sample.ids["sgd-0.01"]] == 0.01
    assert lrs[sample.ids["hostile"]] is None


def test_parquet_equals_the_flat_runs_frame(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("ls", "--root", sample.root, "--format", "parquet", "--sort", "created")
    assert result.code == 0, result.err
    back = pl.read_parquet(io.BytesIO(result.out))
    expected = runs_flat(sample.root).sort("created")
    assert back.drop("duration_s").equals(expected.drop("duration_s"))


def test_parquet_refuses_a_terminal_but_writes_a_file(
    cli: Callable[..., Any], sample: Any, tmp_path: Any
) -> None:
    out = tmp_path / "runs.parquet"
    assert cli("ls", "--root", sample.root, "-f", "parquet", "-o", out).code == 0
    assert pl.read_parquet(out).height == 4


def test_markdown_escapes_cells(cli: Callable[..., Any], sample: Any) -> None:
    result = cli(
        "ls",
        "--root",
        sample.root,
        "-f",
        "md",
        "-w",
        "experiment = 'mnist'",
        "-c",
        "name,params.pipe,params.markup,params.escape",
    )
    lines = result.text.splitlines()
    assert lines[0] == "| name | params.pipe | params.markup | params.escape |"
    assert lines[1] == "|---|---|---|---|"
    cells = lines[2]
    assert '\'=HYPERLINK("http://evil.example","click")' in cells
    assert "a\\|b" in cells
    assert "\\[bold red\\]boom\\[/\\]" in cells
    assert "\x1b" not in cells and "\x07" not in cells
    assert cells.count(" | ") == 3  # the pipe inside a cell did not split it


def test_markdown_newlines_become_breaks(cli: Callable[..., Any], sample: Any) -> None:
    result = cli(
        "ls", "--root", sample.root, "-f", "md", "-c", "params.note", "--sort", "params.note"
    )
    assert '| a,b"c<br>d |' in result.text.splitlines()


def test_plain_table_without_tty_has_no_escapes(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("ls", "--root", sample.root, "-c", "name,params.escape,params.markup")
    assert result.code == 0
    assert not ANSI.search(result.text) and "\x07" not in result.text
    assert "[bold red]boom[/]" in result.text  # markup shown literally
    assert "red\u2407" in result.text  # escapes dropped, the bell shown as a symbol
    header = result.text.splitlines()[0].split()
    assert header == ["name", "params.escape", "params.markup"]


def test_where_filters_rows(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("ls", "--root", sample.root, "-q", "--where", "params.lr > 0.005")
    assert sorted(result.text.split()) == sorted([sample.ids["sgd-0.1"], sample.ids["sgd-0.01"]])
    quoted = cli("ls", "--root", sample.root, "-q", "-w", 'metrics."val/acc" >= 0.54')
    assert quoted.text.split() == [sample.ids["sgd-0.1"]]


@pytest.mark.parametrize(
    ("key", "column", "descending"),
    [
        ("created", "created", False),
        ("-created", "created", True),
        ("params.lr", "params.lr", False),
        ("-metrics.val/acc", "metrics.val/acc", True),
        ("metrics_min.train/loss", "metrics_min.train/loss", False),
        ("-metrics_max.val/acc", "metrics_max.val/acc", True),
        ("val/acc", "metrics.val/acc", False),
    ],
)
def test_sort_keys(
    cli: Callable[..., Any], sample: Any, key: str, column: str, descending: bool
) -> None:
    result = cli("ls", "--root", sample.root, "-q", "--sort", key)
    assert result.code == 0, result.err
    frame = runs_flat(sample.root)
    want = frame.sort(column, descending=descending, nulls_last=True, maintain_order=True)
    assert result.text.split() == want["run_id"].to_list()
    values = [frame.filter(pl.col("run_id") == i)[column].item() for i in result.text.split()]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=descending)
    assert values[len(present) :] == [None] * (len(values) - len(present))  # nulls last


def test_several_sort_keys_and_limit(cli: Callable[..., Any], sample: Any) -> None:
    result = cli(
        "ls", "--root", sample.root, "-q", "-s", "experiment", "-s", "-params.lr", "-n", "2"
    )
    assert result.text.split() == [sample.ids["sgd-0.1"], sample.ids["sgd-0.01"]]


def test_unknown_sort_key_suggests(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("ls", "--root", sample.root, "--sort", "metrics.val/ac")
    assert result.code == 2
    assert "did you mean metrics.val/acc" in result.err


def test_columns_list_and_regex(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("ls", "--root", sample.root, "-f", "csv", "-c", "name,^params\\.model\\.")
    header = result.text.splitlines()[0]
    assert header == "name,params.model.depth,params.model.kind"
    missing = cli("ls", "--root", sample.root, "-c", "nosuchthing")
    assert missing.code == 2 and "nothing matches 'nosuchthing'" in missing.err


def test_default_table_columns(cli: Callable[..., Any], sample: Any) -> None:
    header = cli("ls", "--root", sample.root).text.splitlines()[0].split()
    assert header[:6] == ["run_id", "experiment", "name", "status", "created", "duration_s"]
    assert set(header[6:]) == {
        c for c in runs_flat(sample.root).columns if c.startswith("metrics.")
    }


@pytest.mark.parametrize(
    "args",
    [
        ["--sort", "-a"],
        ["--sort", "b", "--limit", "2"],
        ["--sort", "c", "--columns", r"run_id,metrics\.(c|a)$"],
        ["--columns", "metrics.b,name", "--format", "md"],
    ],
)
def test_metric_columns_kept_as_one_block_print_as_one_column_each(
    cli: Callable[..., Any], tmp_path: Path, args: list[str]
) -> None:
    """`ls` keeps a run's metric keys as one array column (a run may log 100k of them):
    it prints exactly what the frame with one column per key prints."""
    from mmtop.tui.cli import formats, frames

    root = tmp_path / "mmruns"
    logged = [{"a": 1.0, "b": float("nan")}, {"b": 2.0, "c": 3.0}, {"a": 0.5, "c": -1e-300}]
    for i, values in enumerate(logged):
        with store.Run(experiment="e", name=f"r{i}", root=root, capture_system=False) as run:
            run.log(values, step=0)
    result = cli("ls", "--root", root, *args)
    assert result.code == 0, result.err
    spec = dict(zip(args[::2], args[1::2], strict=True))
    fmt = spec.get("--format", "table")
    flat = frames.flatten(store.open(root).runs())
    flat = frames.sort_limit(
        flat, [spec.get("--sort", "-created")], int(spec.get("--limit", 0)) or None
    )
    flat = flat.select(frames.choose_columns(flat, spec.get("--columns"), default_table=True))
    expected = io.BytesIO()
    if fmt == "md":
        formats.write_markdown(flat.frame, expected)
    else:
        formats.write_table(flat, expected, to_terminal=False)
    assert result.out == expected.getvalue()
    assert "nan" in result.text or "--columns" in args
