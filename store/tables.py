"""Logged tables: generic frames, confusion matrices and per-input predictions.

Each table is `tables/<name>.parquet` with a sidecar `tables/<name>.json` that says what kind
of table it is (table, confusion_matrix, predictions), its step and, for the typed kinds, the
class labels. Confusion matrices are stored long (true, pred, count) so any Parquet reader
can use them; `ConfusionMatrix` turns them back into a matrix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import paths
from .fsio import write_atomic, write_json_atomic
from .names import check_path_component

CONFUSION_PREFIX = "confusion."
PREDICTIONS_PREFIX = "predictions."


def table_name(prefix: str, name: str, step: int | None) -> str:
    check_path_component(name, "table name")
    base = f"{prefix}{name}"
    return base if step is None else f"{base}@{int(step):06d}"


def to_arrow(data: Any) -> pa.Table:
    """A pyarrow Table from a polars/pyarrow/pandas frame or a dict of columns."""
    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "to_arrow") and callable(data.to_arrow):  # polars
        table = data.to_arrow()
        if isinstance(table, pa.Table):
            return table
    if type(data).__module__.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, dict):
        return pa.table({str(k): _column(v) for k, v in data.items()})
    raise TypeError(
        f"cannot log a table from {type(data).__name__}: "
        "give a polars/pyarrow/pandas frame or a dict of columns"
    )


def _column(values: Any) -> Any:
    if isinstance(values, np.ndarray | pa.Array | pa.ChunkedArray):
        return values
    if hasattr(values, "to_arrow"):
        return values.to_arrow()
    if hasattr(values, "numpy") and callable(values.numpy):  # torch tensors
        return np.asarray(values.numpy())
    return values


def write_table(run: Path, name: str, table: pa.Table, meta: dict[str, Any]) -> None:
    folder = run / paths.TABLES_DIR
    folder.mkdir(exist_ok=True)
    target = paths.table_file(run, name)
    write_atomic(target, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    full = {"name": name, "rows": table.num_rows, "logged": time.time(), **meta}
    write_json_atomic(paths.table_meta_file(run, name), full)


def _labels_of(values: np.ndarray[Any, Any]) -> list[Any]:
    return sorted(np.unique(values).tolist(), key=lambda v: (str(type(v)), v))


def _as_array(values: Any) -> np.ndarray[Any, Any]:
    if hasattr(values, "detach"):  # torch
        values = values.detach().cpu().numpy()
    elif hasattr(values, "to_numpy"):
        values = values.to_numpy()
    return np.asarray(values)


def confusion_table(
    y_true: Any, y_pred: Any, labels: list[Any] | None
) -> tuple[pa.Table, list[str]]:
    t, p = _as_array(y_true).ravel(), _as_array(y_pred).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} values but y_pred has {p.size}")
    if labels is None:
        labels = _labels_of(np.concatenate([t, p]))
    index = {lab: i for i, lab in enumerate(labels)}
    if len(index) != len(labels):
        raise ValueError("labels must be unique")
    k = len(labels)
    ti = np.fromiter((index.get(v, -1) for v in t.tolist()), dtype=np.int64, count=t.size)
    pi = np.fromiter((index.get(v, -1) for v in p.tolist()), dtype=np.int64, count=p.size)
    keep = (ti >= 0) & (pi >= 0)  # like scikit-learn: values outside `labels` are left out
    matrix = np.bincount(ti[keep] * k + pi[keep], minlength=k * k).reshape(k, k)
    names = [str(lab) for lab in labels]
    rows = np.repeat(np.arange(k), k)
    cols = np.tile(np.arange(k), k)
    table = pa.table(
        {
            "true": pa.array([names[i] for i in rows], pa.string()),
            "pred": pa.array([names[j] for j in cols], pa.string()),
            "count": pa.array(matrix.ravel(), pa.int64()),
        }
    )
    return table, names


@dataclass
class ConfusionMatrix:
    """A confusion matrix read back: rows are true classes, columns predicted classes."""

    labels: list[str]
    matrix: list[list[int]]
    step: int | None = None

    def precision(self) -> dict[str, float]:
        """Per class: correct / predicted as that class (NaN when never predicted).

        Counted over the matrix only: with `labels` a subset of the classes, inputs whose true
        or predicted class is outside it are not in the matrix (as in scikit-learn's
        confusion_matrix), unlike `precision_score(labels=...)`, which still counts them.
        """
        m = np.asarray(self.matrix, dtype=np.float64)
        col = m.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return dict(zip(self.labels, (np.diag(m) / col).tolist(), strict=True))

    def recall(self) -> dict[str, float]:
        """Per class: correct / truly that class (NaN when the class never occurs); counted
        over the matrix only, as `precision` is."""
        m = np.asarray(self.matrix, dtype=np.float64)
        row = m.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return dict(zip(self.labels, (np.diag(m) / row).tolist(), strict=True))

    def accuracy(self) -> float:
        m = np.asarray(self.matrix, dtype=np.float64)
        total = m.sum()
        return float(np.trace(m) / total) if total else float("nan")


def read_confusion(meta: dict[str, Any], source: BinaryIO) -> ConfusionMatrix:
    """A confusion matrix from its sidecar (already read) and its open Parquet file."""
    labels = [str(x) for x in meta["labels"]]
    table = pq.read_table(source)
    index = {lab: i for i, lab in enumerate(labels)}
    k = len(labels)
    matrix = [[0] * k for _ in range(k)]
    for t, p, c in zip(
        *(table.column(c).to_pylist() for c in ("true", "pred", "count")), strict=True
    ):
        matrix[index[t]][index[p]] = int(c)
    return ConfusionMatrix(labels, matrix, meta.get("step"))


def predictions_table(
    probs: Any, y_true: Any, ids: Any, class_names: list[Any] | None
) -> tuple[pa.Table, list[str]]:
    """id, y_true, pred, confidence, correct, then one probability column per class."""
    if hasattr(probs, "to_numpy") and not isinstance(probs, np.ndarray):
        p = np.asarray(probs.to_numpy(), dtype=np.float64)
        if class_names is None and hasattr(probs, "columns"):
            class_names = [str(c) for c in probs.columns]
    else:
        p = _as_array(probs).astype(np.float64, copy=False)
    if p.ndim != 2:
        raise ValueError(f"probs must be 2-D (inputs x classes), got shape {p.shape}")
    n, k = p.shape
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"{len(names)} class names for {k} probability columns")
    if len(set(names)) != k:
        raise ValueError("class names must be unique")
    arg = p.argmax(axis=1) if k else np.zeros(n, dtype=np.int64)
    cols: dict[str, Any] = {}
    cols["id"] = _as_array(ids) if ids is not None else np.arange(n, dtype=np.int64)
    if len(cols["id"]) != n:
        raise ValueError(f"{len(cols['id'])} ids for {n} rows of probabilities")
    # Class columns are dictionary-encoded: 1M rows log in well under a second.
    dictionary = pa.array(names, pa.string())
    if y_true is not None:
        truth = _as_array(y_true).ravel()
        if len(truth) != n:
            raise ValueError(f"{len(truth)} true labels for {n} rows of probabilities")
        if truth.dtype.kind in "iu":
            if truth.size and (truth.min() < 0 or truth.max() >= k):
                raise ValueError(f"integer true labels must be class indices 0..{k - 1}")
            truth_idx = truth.astype(np.int32)
        else:
            lookup = {name: i for i, name in enumerate(names)}
            try:
                truth_idx = np.fromiter(
                    (lookup[str(v)] for v in truth.tolist()), dtype=np.int32, count=n
                )
            except KeyError as exc:
                raise ValueError(f"true label {exc.args[0]!r} is not a class name") from None
        cols["y_true"] = pa.DictionaryArray.from_arrays(pa.array(truth_idx), dictionary)
    cols["pred"] = pa.DictionaryArray.from_arrays(pa.array(arg.astype(np.int32)), dictionary)
    cols["confidence"] = p.max(axis=1) if k else np.zeros(n)
    if y_true is not None:
        cols["correct"] = truth_idx == arg
    for j, name in enumerate(names):
        cols[f"p:{name}"] = p[:, j]
    return pa.table(cols), names
