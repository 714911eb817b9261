"""Confusion matrices logged by a run and read back through `store.open(root)`: the counts,
labels and per-class precision/recall must equal scikit-learn's on the same inputs."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mmtop import store

sklearn_metrics = pytest.importorskip("sklearn.metrics")
sklearn_datasets = pytest.importorskip("sklearn.datasets")
sklearn_linear = pytest.importorskip("sklearn.linear_model")

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(scope="module")
def digits_predictions() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(y_true, y_pred) of a quickly trained linear model on held-out digits."""
    x, y = sklearn_datasets.load_digits(return_X_y=True)
    model = sklearn_linear.SGDClassifier(random_state=0, max_iter=5, tol=None)
    model.fit(x[:1200], y[:1200])
    y_pred = model.predict(x[1200:])
    assert 0 < (y_pred == y[1200:]).mean() < 1  # some mistakes: off-diagonal cells matter
    return y[1200:], y_pred


def nan_equal(got: list[float], want: Any) -> None:
    want = [float(w) for w in want]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert (math.isnan(g) and math.isnan(w)) or g == w, (got, want)


def test_matrix_of_digits_equals_sklearn(new_run: Any, root: Path, digits_predictions: Any) -> None:
    y_true, y_pred = digits_predictions
    with new_run(name="sgd") as run:
        full = run.log_confusion_matrix(y_true, y_pred, name="test")
    assert full == "confusion.test"
    cm = store.open(root).run(run.run_id).confusion_matrix("test")
    expected = sklearn_metrics.confusion_matrix(y_true, y_pred)
    assert cm.labels == [str(i) for i in range(10)]
    assert cm.matrix == expected.tolist()
    assert cm.step is None
    assert cm.accuracy() == sklearn_metrics.accuracy_score(y_true, y_pred)
    nan_equal(
        list(cm.precision().values()),
        sklearn_metrics.precision_score(y_true, y_pred, average=None, zero_division=np.nan),
    )
    nan_equal(
        list(cm.recall().values()),
        sklearn_metrics.recall_score(y_true, y_pred, average=None, zero_division=np.nan),
    )
    assert list(cm.precision()) == cm.labels


def test_stored_long_table_is_plain_parquet(
    new_run: Any, root: Path, digits_predictions: Any
) -> None:
    """Any Parquet reader sees (true, pred, count) rows: one per cell, counts summing to n."""
    y_true, y_pred = digits_predictions
    with new_run() as run:
        run.log_confusion_matrix(y_true, y_pred)
    info = store.open(root).run(run.run_id)
    raw = pl.read_parquet(run.path / "tables" / "confusion.val.parquet")
    assert raw.columns == ["true", "pred", "count"]
    assert raw.height == 100
    assert raw["count"].sum() == len(y_true)
    expected = sklearn_metrics.confusion_matrix(y_true, y_pred)
    for t, p, c in raw.iter_rows():
        assert expected[int(t), int(p)] == c
    [meta] = info.tables()
    assert meta["kind"] == "confusion_matrix"
    assert meta["of"] == "val"
    assert meta["labels"] == [str(i) for i in range(10)]
    assert meta["rows"] == 100


def test_explicit_labels_subset_and_order_match_sklearn(
    new_run: Any, root: Path, digits_predictions: Any
) -> None:
    y_true, y_pred = digits_predictions
    labels = [7, 1, 3, 0]  # a subset, not sorted: values outside it are left out, like sklearn
    with new_run() as run:
        run.log_confusion_matrix(y_true, y_pred, labels=labels)
    cm = store.open(root).run(run.run_id).confusion_matrix()
    expected = sklearn_metrics.confusion_matrix(y_true, y_pred, labels=labels)
    assert cm.labels == ["7", "1", "3", "0"]
    assert cm.matrix == expected.tolist()
    # The matrix holds only pairs where both values are among `labels`, so its precision and
    # recall are sklearn's over those samples (sklearn's own scores with `labels` also count
    # predictions of, and truths from, the classes left out).
    inside = np.isin(y_true, labels) & np.isin(y_pred, labels)
    nan_equal(
        list(cm.precision().values()),
        sklearn_metrics.precision_score(
            y_true[inside], y_pred[inside], labels=labels, average=None, zero_division=np.nan
        ),
    )
    nan_equal(
        list(cm.recall().values()),
        sklearn_metrics.recall_score(
            y_true[inside], y_pred[inside], labels=labels, average=None, zero_division=np.nan
        ),
    )


def test_string_labels_match_sklearn(new_run: Any, root: Path, digits_predictions: Any) -> None:
    y_true, y_pred = digits_predictions
    names = np.array(DIGIT_NAMES)
    t, p = names[y_true], names[y_pred]
    with new_run() as run:
        run.log_confusion_matrix(t.tolist(), p.tolist(), name="words")  # plain lists too
    cm = store.open(root).run(run.run_id).confusion_matrix("words")
    assert cm.labels == sorted(DIGIT_NAMES)  # default order: sorted, as sklearn's
    assert cm.matrix == sklearn_metrics.confusion_matrix(t, p).tolist()
    nan_equal(
        list(cm.recall().values()),
        sklearn_metrics.recall_score(t, p, average=None, zero_division=np.nan),
    )


def test_never_predicted_and_absent_classes_give_nan_like_sklearn(new_run: Any, root: Path) -> None:
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 5, size=400)  # class 5 never occurs
    y_pred = rng.integers(0, 4, size=400)  # class 4 never predicted
    labels = [0, 1, 2, 3, 4, 5]
    with new_run() as run:
        run.log_confusion_matrix(y_true, y_pred, labels=labels)
    cm = store.open(root).run(run.run_id).confusion_matrix()
    assert cm.matrix == sklearn_metrics.confusion_matrix(y_true, y_pred, labels=labels).tolist()
    precision = list(cm.precision().values())
    recall = list(cm.recall().values())
    assert math.isnan(precision[4]) and math.isnan(precision[5])
    assert math.isnan(recall[5]) and not math.isnan(recall[4])
    with warnings.catch_warnings():  # sklearn warns about absent labels; not tested here
        warnings.simplefilter("ignore")
        want_p = sklearn_metrics.precision_score(
            y_true, y_pred, labels=labels, average=None, zero_division=np.nan
        )
        want_r = sklearn_metrics.recall_score(
            y_true, y_pred, labels=labels, average=None, zero_division=np.nan
        )
    nan_equal(precision, want_p)
    nan_equal(recall, want_r)


def test_steps_latest_by_default_and_each_readable(new_run: Any, root: Path) -> None:
    rng = np.random.default_rng(1)
    logged: dict[int, list[list[int]]] = {}
    with new_run() as run:
        run.log_confusion_matrix([0, 1, 1], [0, 1, 0])  # no step: older than any stepped one
        for step in (1, 5, 3):  # out of order: "latest" means the highest step
            y_true = rng.integers(0, 3, size=200)
            y_pred = rng.integers(0, 3, size=200)
            assert (
                run.log_confusion_matrix(y_true, y_pred, step=step) == f"confusion.val@{step:06d}"
            )
            logged[step] = sklearn_metrics.confusion_matrix(y_true, y_pred).tolist()
        run.log_confusion_matrix([1, 1], [1, 1], name="test", step=9)  # another name: ignored
    info = store.open(root).run(run.run_id)
    latest = info.confusion_matrix()
    assert latest.step == 5
    assert latest.matrix == logged[5]
    for step, matrix in logged.items():
        cm = info.confusion_matrix("val", step=step)
        assert (cm.step, cm.matrix) == (step, matrix)
    assert info.confusion_matrix("test").matrix == [[2]]
    kinds = [(t["name"], t["kind"], t["step"]) for t in info.tables()]
    assert kinds == [
        ("confusion.test@000009", "confusion_matrix", 9),
        ("confusion.val", "confusion_matrix", None),
        ("confusion.val@000001", "confusion_matrix", 1),
        ("confusion.val@000003", "confusion_matrix", 3),
        ("confusion.val@000005", "confusion_matrix", 5),
    ]


def test_unstepped_matrix_is_the_latest_when_alone(new_run: Any, root: Path) -> None:
    with new_run() as run:
        run.log_confusion_matrix(["a", "b", "b"], ["a", "a", "b"])
    cm = store.open(root).run(run.run_id).confusion_matrix()
    assert (cm.labels, cm.matrix, cm.step) == (["a", "b"], [[1, 0], [1, 1]], None)


def test_missing_matrix_and_bad_inputs_are_clear_errors(new_run: Any, root: Path) -> None:
    with new_run() as run:
        with pytest.raises(ValueError, match="3 values but y_pred has 2"):
            run.log_confusion_matrix([0, 1, 1], [0, 1])
        with pytest.raises(ValueError, match="labels must be unique"):
            run.log_confusion_matrix([0, 1], [0, 1], labels=[0, 1, 0])
        for bad in ("../x", "a/b", ".."):
            with pytest.raises(ValueError, match="table name"):
                run.log_confusion_matrix([0], [0], name=bad)
    info = store.open(root).run(run.run_id)
    with pytest.raises(KeyError, match="no confusion matrix named 'val'"):
        info.confusion_matrix()
    assert info.tables() == []
