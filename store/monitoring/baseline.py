"""A version's training baseline: what its validation data and predictions looked like.

Stored as `baseline.json` in the version folder (docs/FORMAT.md, "Baselines"): a profile of
the features (store/profile.py) with a bounded sample, a profile of the predictions, the
task (classification or regression), the classes, the validation metrics and the drift
thresholds monitoring applies to this version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from .. import paths
from ..drift import Thresholds
from ..fsio import read_json, write_json_atomic
from ..profile import profile, sample_frame
from . import quality
from .inputs import as_class, as_frame, as_model_input, as_series, is_classification

FORMAT = "mmtop-baseline"
VERSION = 1
FILE = "baseline.json"
# The feature sample lives beside it as Parquet: 10k rows of wide data is too much JSON.
SAMPLE_FILE = "baseline_sample.parquet"
# Tables or datasets a run logged that serve as its baseline when none is given, in order;
# a column named like LABEL_COLUMNS in them is the labels.
RUN_SOURCES = ("baseline", "validation", "val")
LABEL_COLUMNS = ("label", "target", "y")


def build(
    model: Any,
    predict: Any,
    data: Any,
    labels: Any = None,
    *,
    source: str = "argument",
    thresholds: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The baseline document of `model` on `data` (with `labels`, a sequence or the name of a
    column of `data`); `predict(model, inputs)` is the serializer's prediction."""
    limits = Thresholds.from_dict(thresholds)
    frame, tensor = as_frame(data)
    y: pl.Series | None = None
    if isinstance(labels, str):
        if labels not in frame.columns:
            raise ValueError(f"baseline_y: the baseline has no column {labels!r}")
        y, frame = frame[labels], frame.drop(labels)
    elif labels is not None:
        y = as_series(labels, "label")
        if y.len() != frame.height:
            raise ValueError(f"baseline_y has {y.len()} rows, the baseline {frame.height}")
    if frame.height == 0:
        raise ValueError("the baseline has no rows")
    raw = predict(model, as_model_input(frame, model))
    predictions = as_series(raw, "prediction") if raw is not None else None
    task = _task(model, y, predictions)
    if predictions is not None and task == "classification":
        predictions = as_class(predictions)
    metrics: dict[str, float] = {}
    if y is not None and predictions is not None:
        if task == "classification":
            metrics = quality.classification(as_class(y), predictions)
        else:
            metrics = quality.regression(y, predictions)
    classes = getattr(model, "classes_", None)
    return {
        "format": FORMAT,
        "version": VERSION,
        "source": source,
        "rows": frame.height,
        "input_kind": "tensor" if tensor else "columns",
        "task": task,
        "classes": [str(c) for c in as_class(pl.Series(list(classes)))]
        if classes is not None
        else None,
        "features": profile(frame),
        "predictions": profile(predictions.to_frame(), sample_rows=0)
        if predictions is not None
        else None,
        "labels": profile(y.to_frame("label"), sample_rows=0) if y is not None else None,
        "metrics": metrics,
        "thresholds": limits.to_dict(),
    }


def _task(model: Any, y: pl.Series | None, predictions: pl.Series | None) -> str | None:
    if hasattr(model, "predict_proba") or hasattr(model, "classes_"):
        return "classification"
    for values in (y, predictions):
        if values is not None:
            return "classification" if is_classification(values) else "regression"
    return None


def from_run(run: Path) -> tuple[pl.DataFrame, str | None, str] | None:
    """(data, label column, source) a run logged as its baseline, else None: a table, or a
    Parquet/CSV dataset file still on disk, named one of RUN_SOURCES."""
    for name in RUN_SOURCES:
        table = run / paths.TABLES_DIR / f"{name}.parquet"
        if table.is_file():
            frame = pl.read_parquet(table)
            return frame, _label_column(frame), f"table:{name}"
    entries = read_json(run / paths.INPUTS_JSON) if (run / paths.INPUTS_JSON).is_file() else []
    for name in RUN_SOURCES:
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("name") != name:
                continue
            uri = Path(str(entry.get("uri") or ""))
            if entry.get("kind") == "file" and uri.is_file():
                if uri.suffix == ".parquet":
                    frame = pl.read_parquet(uri)
                elif uri.suffix == ".csv":
                    frame = pl.read_csv(uri)
                else:
                    continue
                return frame, _label_column(frame), f"dataset:{name}"
    return None


def _label_column(frame: pl.DataFrame) -> str | None:
    return next((c for c in LABEL_COLUMNS if c in frame.columns), None)


def write(folder: Path, doc: dict[str, Any]) -> list[str]:
    """Write `doc` into a version folder being registered; returns the files written."""
    features = doc["features"]
    sample = sample_frame(features)
    stored = {**doc, "features": {**features, "sample": {**features["sample"], "columns": {}}}}
    stored["features"]["sample"]["file"] = SAMPLE_FILE
    sample.write_parquet(folder / SAMPLE_FILE, compression="zstd")
    write_json_atomic(folder / FILE, stored)
    return [FILE, SAMPLE_FILE]


def read(version_dir: Path) -> dict[str, Any] | None:
    """The version's baseline, or None when it was registered without one."""
    where = version_dir / FILE
    if not where.is_file():
        return None
    doc = read_json(where)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{where}: not an mmtop baseline")
    if not isinstance(doc.get("version"), int) or doc["version"] > VERSION:
        raise ValueError(
            f"{where}: baseline version {doc.get('version')!r} is newer than {VERSION}"
        )
    sample = doc.get("features", {}).get("sample", {})
    if sample.get("file") == SAMPLE_FILE:
        frame = pl.read_parquet(version_dir / SAMPLE_FILE)
        sample["columns"] = {name: frame[name].to_list() for name in frame.columns}
    return doc
