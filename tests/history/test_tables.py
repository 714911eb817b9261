"""Generic tables (`run.log_table`) from every kind of frame, read back through the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from mmtop import store

EXPECTED = pl.DataFrame(
    {"epoch": [0, 1, 2], "loss": [0.9, 0.5, 0.25], "split": ["train", "val", "test"]}
)


def read(root: Path, run_id: str, name: str) -> pl.DataFrame:
    return store.open(root).run(run_id).table(name)


def test_polars_frame(new_run: Any, root: Path) -> None:
    with new_run() as run:
        assert run.log_table("curve", EXPECTED) == "curve"
    got = read(root, run.run_id, "curve")
    assert got.equals(EXPECTED)
    assert got.schema == EXPECTED.schema


def test_pyarrow_table(new_run: Any, root: Path) -> None:
    with new_run() as run:
        run.log_table("curve", EXPECTED.to_arrow())
    assert read(root, run.run_id, "curve").equals(EXPECTED)


def test_pandas_frame(new_run: Any, root: Path) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"epoch": [0, 1, 2], "loss": [0.9, 0.5, 0.25], "split": ["train", "val", "test"]},
        index=[10, 11, 12],  # the index is not data: it is left out
    )
    with new_run() as run:
        run.log_table("curve", frame)
    assert read(root, run.run_id, "curve").equals(EXPECTED)


def test_dict_of_columns_of_every_kind(new_run: Any, root: Path) -> None:
    data = {
        "epoch": np.array([0, 1, 2], dtype=np.int64),
        "loss": [0.9, 0.5, 0.25],
        "split": pl.Series(["train", "val", "test"]),
    }
    with new_run() as run:
        run.log_table("curve", data)
    assert read(root, run.run_id, "curve").equals(EXPECTED)


def test_listed_with_kind_rows_and_step(new_run: Any, root: Path) -> None:
    with new_run() as run:
        run.log_table("curve", EXPECTED)
        assert run.log_table("curve", EXPECTED.head(1), step=7) == "curve@000007"
    info = store.open(root).run(run.run_id)
    described = [(t["name"], t["kind"], t["rows"], t["step"]) for t in info.tables()]
    assert described == [("curve", "table", 3, None), ("curve@000007", "table", 1, 7)]
    assert info.table("curve@000007").equals(EXPECTED.head(1))


def test_relogging_a_name_replaces_the_table(new_run: Any, root: Path) -> None:
    with new_run() as run:
        run.log_table("curve", EXPECTED)
        run.log_table("curve", EXPECTED.tail(2))
    assert read(root, run.run_id, "curve").equals(EXPECTED.tail(2))
    assert sorted(p.name for p in (run.path / "tables").iterdir()) == [
        "curve.json",
        "curve.parquet",
    ]


def test_unsupported_data_and_unsafe_names_are_refused(new_run: Any, root: Path) -> None:
    with new_run() as run:
        with pytest.raises(TypeError, match="cannot log a table from list"):
            run.log_table("rows", [1, 2, 3])
        for bad in ("../x", "a/b", "..", ".hidden", ""):
            with pytest.raises(ValueError, match="table name"):
                run.log_table(bad, EXPECTED)
    info = store.open(root).run(run.run_id)
    assert info.tables() == []
    with pytest.raises(ValueError, match="table name"):
        info.table("../run")
    assert sorted(p.name for p in root.rglob("*.parquet")) == []


def test_any_parquet_reader_reads_the_file(new_run: Any, root: Path) -> None:
    with new_run() as run:
        run.log_table("curve", pa.table({"x": [1, 2], "y": ["a", "b"]}))
    path = run.path / "tables" / "curve.parquet"
    assert pl.read_parquet(path).to_dicts() == [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]


@pytest.mark.parametrize("name", ["confusion.val", "predictions.val", "curve@000001"])
def test_names_of_typed_tables_are_reserved(new_run: Any, root: Path, name: str) -> None:
    with new_run() as run:
        run.log_confusion_matrix([0, 1], [0, 1], name="val")
        with pytest.raises(ValueError, match="is reserved"):
            run.log_table(name, EXPECTED)
    matrix = store.open(root).run(run.run_id).confusion_matrix("val")
    assert matrix.matrix == [[1, 0], [0, 1]]  # untouched
