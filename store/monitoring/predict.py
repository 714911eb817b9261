"""Batch prediction with a registered version: `mmtop models predict REF INPUT -o OUTPUT`.

The version is loaded with the registry's safe loaders (files verified first); the input's
feature columns are chosen by the version's baseline (by name, or by position for a model
fitted on an array) and the predictions can be logged for monitoring under a target.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..registry.model_version import ModelVersion
from . import layout
from .inputs import as_model_input, as_series

READERS = (".parquet", ".csv")


def read_input(path: Path) -> pl.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pl.read_parquet(path)
    if suffix == ".csv":
        return pl.read_csv(path)
    raise ValueError(f"{path.name}: input must be a .parquet or .csv file")


def write_output(frame: pl.DataFrame, path: Path) -> None:
    """Write whole or not at all: aside, then renamed."""
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise ValueError(f"{path.name}: output must be a .parquet or .csv file")
    tmp = path.with_name(f".{path.name}.tmp")
    if suffix == ".parquet":
        frame.write_parquet(tmp)
    else:
        frame.write_csv(tmp)
    tmp.replace(path)


def features_of(version: ModelVersion, frame: pl.DataFrame, skip: list[str]) -> pl.DataFrame:
    """The model's input columns of `frame`."""
    base = version.baseline()
    candidates = frame.drop([c for c in skip if c in frame.columns])
    if base is None:
        return candidates
    names = list(base["features"]["columns"])
    if all(n in frame.columns for n in names):
        return frame.select(names)
    if base.get("input_kind") == "tensor" and candidates.width == len(names):
        return candidates.rename(dict(zip(candidates.columns, names, strict=True)))
    missing = [n for n in names if n not in frame.columns]
    raise ValueError(
        f"the input lacks {len(missing)} feature column(s) of {version.ref}: "
        + ", ".join(missing[:5])
    )


def predict(
    version: ModelVersion, model: Any, features: pl.DataFrame
) -> tuple[pl.Series, pl.DataFrame | None, float]:
    """(predictions, class probabilities or None, milliseconds per row)."""
    start = time.perf_counter()
    data = as_model_input(features, model)
    raw = model.predict(data)
    proba = None
    if hasattr(model, "predict_proba"):
        matrix = np.asarray(model.predict_proba(data), dtype=np.float64)
        classes = [str(c) for c in getattr(model, "classes_", range(matrix.shape[1]))]
        proba = pl.from_numpy(matrix, schema=[layout.PROBA_PREFIX + c for c in classes])
    per_row = (time.perf_counter() - start) * 1000 / max(features.height, 1)
    return as_series(raw, layout.PREDICTION), proba, per_row


def run_batch(
    root: Path | str,
    version: ModelVersion,
    source: Path,
    dest: Path,
    target: str | None,
    id_column: str | None,
) -> dict[str, Any]:
    """Predict every row of `source` into `dest` (input columns, prediction, probabilities);
    log them under `target` when given (`root` may be an s3:// store). Returns what was
    done."""
    frame = read_input(source)
    if id_column is not None and id_column not in frame.columns:
        raise ValueError(f"the input has no id column {id_column!r}")
    features = features_of(version, frame, [id_column] if id_column else [])
    model = version.load()
    predictions, proba, per_row = predict(version, model, features)
    out = frame.with_columns(predictions)
    if proba is not None:
        out = out.hstack(proba)
    write_output(out, dest)
    if target is not None:
        from .logger import monitor

        with monitor(version.name, target, root=root, version=version.version) as mon:
            mon.log(
                features,
                predictions,
                probabilities=proba.rename(lambda c: c.removeprefix(layout.PROBA_PREFIX))
                if proba is not None
                else None,
                ids=frame[id_column] if id_column else None,
                latency_ms=per_row,
            )
    return {"ref": version.ref, "rows": frame.height, "output": str(dest), "target": target}
