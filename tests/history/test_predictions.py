"""Per-input predictions logged by a run and read back exactly through `store.open(root)`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mmtop import store

CLASSES = ["cat", "dog", "bird"]


def probabilities(n: int, k: int, seed: int = 0) -> np.ndarray[Any, Any]:
    return np.random.default_rng(seed).dirichlet(np.ones(k), size=n)


def test_probabilities_ids_and_labels_read_back_exactly(new_run: Any, root: Path) -> None:
    probs = probabilities(500, 3)
    y_true = np.random.default_rng(1).integers(0, 3, size=500)
    ids = [f"img-{i:04d}" for i in range(500)]
    with new_run() as run:
        full = run.log_predictions(probs, y_true=y_true, ids=ids, class_names=CLASSES)
    assert full == "predictions.val"
    df = store.open(root).run(run.run_id).predictions()
    assert df.columns == [
        "id",
        "y_true",
        "pred",
        "confidence",
        "correct",
        *(f"p:{c}" for c in CLASSES),
    ]
    assert df.height == 500
    got = df.select(f"p:{c}" for c in CLASSES).to_numpy()
    assert got.dtype == np.float64
    assert np.array_equal(got, probs)  # bit for bit, no rounding
    assert df["id"].to_list() == ids
    names = np.array(CLASSES)
    assert df["y_true"].to_list() == names[y_true].tolist()
    assert df["pred"].to_list() == names[probs.argmax(axis=1)].tolist()
    assert df["confidence"].to_list() == probs.max(axis=1).tolist()
    assert df["correct"].to_list() == (probs.argmax(axis=1) == y_true).tolist()
    assert df["y_true"].dtype == pl.String and df["pred"].dtype == pl.String
    [meta] = store.open(root).run(run.run_id).tables()
    assert (meta["kind"], meta["labels"], meta["rows"], meta["of"]) == (
        "predictions",
        CLASSES,
        500,
        "val",
    )


def test_string_true_labels_and_integer_ids(new_run: Any, root: Path) -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.6, 0.1], [0.5, 0.25, 0.25]])
    y_true = ["cat", "bird", "cat", "cat"]
    with new_run() as run:
        run.log_predictions(
            probs, y_true=y_true, ids=np.array([10, 20, 30, 40]), class_names=CLASSES
        )
    df = store.open(root).run(run.run_id).predictions()
    assert df["id"].dtype == pl.Int64
    assert df["id"].to_list() == [10, 20, 30, 40]
    assert df["y_true"].to_list() == y_true
    assert df["pred"].to_list() == ["cat", "bird", "dog", "cat"]
    assert df["correct"].to_list() == [True, True, False, True]
    assert df["confidence"].to_list() == [0.7, 0.8, 0.6, 0.5]


def test_defaults_without_labels_ids_or_class_names(new_run: Any, root: Path) -> None:
    probs = probabilities(6, 4, seed=3).astype(np.float32)  # float32 kept exactly as float64
    with new_run() as run:
        run.log_predictions(probs)
    df = store.open(root).run(run.run_id).predictions()
    assert df.columns == ["id", "pred", "confidence", "p:0", "p:1", "p:2", "p:3"]
    assert df["id"].to_list() == list(range(6))
    assert df["pred"].to_list() == [str(i) for i in probs.argmax(axis=1)]
    assert np.array_equal(
        df.select("p:0", "p:1", "p:2", "p:3").to_numpy(), probs.astype(np.float64)
    )


def test_frame_of_probabilities_names_the_classes(new_run: Any, root: Path) -> None:
    frame = pl.DataFrame({"neg": [0.9, 0.4, 0.2], "pos": [0.1, 0.6, 0.8]})
    with new_run() as run:
        run.log_predictions(frame, y_true=["neg", "pos", "neg"])
    df = store.open(root).run(run.run_id).predictions()
    assert df["pred"].to_list() == ["neg", "pos", "pos"]
    assert df["correct"].to_list() == [True, True, False]
    assert df["p:pos"].to_list() == [0.1, 0.6, 0.8]


def test_steps_latest_by_default(new_run: Any, root: Path) -> None:
    with new_run() as run:
        for step in (2, 10, 4):
            run.log_predictions(np.full((2, 2), step / 20.0), name="test", step=step)
        run.log_predictions(np.full((1, 2), 0.5), name="other")
    info = store.open(root).run(run.run_id)
    assert info.predictions("test")["p:0"].to_list() == [0.5, 0.5]  # step 10
    assert info.predictions("test", step=4)["p:0"].to_list() == [0.2, 0.2]
    assert info.predictions("other").height == 1
    with pytest.raises(KeyError, match="no predictions named 'val'"):
        info.predictions()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"probs": np.zeros(5)}, r"probs must be 2-D \(inputs x classes\), got shape \(5,\)"),
        ({"probs": np.zeros((2, 3, 4))}, r"probs must be 2-D .* got shape \(2, 3, 4\)"),
        ({"class_names": ["a", "b"]}, r"2 class names for 3 probability columns"),
        ({"class_names": ["a", "b", "a"]}, r"class names must be unique"),
        ({"ids": [1, 2, 3]}, r"3 ids for 4 rows of probabilities"),
        ({"y_true": [0, 1, 2]}, r"3 true labels for 4 rows of probabilities"),
        ({"y_true": [0, 1, 2, 3]}, r"integer true labels must be class indices 0\.\.2"),
        ({"y_true": [0, -1, 2, 1]}, r"integer true labels must be class indices 0\.\.2"),
        (
            {"y_true": ["cat", "dog", "fish", "cat"], "class_names": CLASSES},
            r"true label 'fish' is not a class name",
        ),
    ],
)
def test_wrong_shapes_are_one_clear_value_error(
    new_run: Any, root: Path, kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {"probs": probabilities(4, 3)} | kwargs
    with new_run() as run:
        with pytest.raises(ValueError, match=message):
            run.log_predictions(**args)
    assert store.open(root).run(run.run_id).tables() == []  # nothing half-written
    assert not (run.path / "tables").exists() or not any((run.path / "tables").iterdir())


def test_a_million_rows_of_ten_classes(new_run: Any, root: Path) -> None:
    """The issue's large case logs and reads back whole (its speed: benchmarks/bench_tables.py)."""
    n, k = 1_000_000, 10
    rng = np.random.default_rng(5)
    probs = rng.random((n, k))
    y_true = rng.integers(0, k, size=n)
    with new_run() as run:
        run.log_predictions(probs, y_true=y_true)
    df = store.open(root).run(run.run_id).predictions()
    assert df.height == n
    assert np.array_equal(df.select(f"p:{j}" for j in range(k)).to_numpy(), probs)
    assert np.array_equal(df["pred"].cast(pl.Int64).to_numpy(), probs.argmax(axis=1))
    assert df["correct"].sum() == int((probs.argmax(axis=1) == y_true).sum())
    assert df["id"][-1] == n - 1
