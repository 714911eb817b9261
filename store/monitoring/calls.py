"""Logged prediction calls: checked cheaply when logged, converted in bulk when flushed.

`check` runs in the serving code's `log` call: it validates lengths and types (so a bad call
fails there, naming the argument) and keeps numpy arrays as they are. `to_frame` runs at
flush time: consecutive calls with 2-D array inputs of one width are concatenated and
converted in one go, so a serving loop of small batches costs a few microseconds a call.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from . import layout
from .inputs import as_frame, as_series

TIME_TYPE = pl.Datetime("us", "UTC")


@dataclass
class Call:
    rows: int
    inputs: np.ndarray[Any, Any] | pl.DataFrame
    predictions: np.ndarray[Any, Any] | pl.Series
    probabilities: np.ndarray[Any, Any] | pl.DataFrame | None
    ids: np.ndarray[Any, Any] | pl.Series | None
    latency: float | np.ndarray[Any, Any] | None
    time: int | pl.Series  # microseconds since the epoch (UTC), or one datetime per row

    def key(self) -> tuple[Any, ...] | None:
        """Calls with equal keys convert together; None: this call converts alone."""
        if not isinstance(self.inputs, np.ndarray) or not isinstance(self.time, int):
            return None
        if not isinstance(self.predictions, np.ndarray):
            return None
        proba = self.probabilities
        if proba is not None and not isinstance(proba, np.ndarray):
            return None
        return (
            self.inputs.shape[1],
            self.inputs.dtype.kind,
            self.predictions.dtype.kind,
            None if proba is None else proba.shape[1],
            self.ids is None,
            self.latency is None,
        )


def _array(values: Any) -> np.ndarray[Any, Any] | None:
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, list | tuple):
        return np.asarray(values)
    return None


def check(
    inputs: Any, predictions: Any, probabilities: Any, ids: Any, latency: Any, when: Any
) -> Call:
    array = _array(inputs)
    if array is not None and array.ndim == 2 and array.dtype.kind in "biuf":
        frame: np.ndarray[Any, Any] | pl.DataFrame = array
        n = array.shape[0]
    else:
        frame, _ = as_frame(inputs)
        n = frame.height
    pred: np.ndarray[Any, Any] | pl.Series
    pred_arr = _array(predictions)
    if pred_arr is not None and pred_arr.ndim == 1 and pred_arr.dtype.kind in "biufU":
        pred = pred_arr
    else:
        pred = as_series(predictions, layout.PREDICTION)
    if len(pred) != n:
        raise ValueError(f"log: {n} input rows but {len(pred)} predictions")
    return Call(
        rows=n,
        inputs=frame,
        predictions=pred,
        probabilities=_probabilities(probabilities, n),
        ids=_ids(ids, n),
        latency=_latency(latency, n),
        time=check_time(when, n, "log"),
    )


def _probabilities(values: Any, n: int) -> np.ndarray[Any, Any] | pl.DataFrame | None:
    if values is None:
        return None
    array = _array(values)
    if array is not None and array.ndim == 2 and array.dtype.kind in "biuf":
        if array.shape[0] != n:
            raise ValueError(f"log: {n} input rows but {array.shape[0]} rows of probabilities")
        return array
    frame, _ = as_frame(values)
    if frame.height != n:
        raise ValueError(f"log: {n} input rows but {frame.height} rows of probabilities")
    if not all(dtype.is_numeric() for dtype in frame.dtypes):
        raise ValueError("log: probabilities must be numbers")
    return frame


def _ids(ids: Any, n: int) -> np.ndarray[Any, Any] | pl.Series | None:
    if ids is None:
        return None
    array = _array(ids)
    found: np.ndarray[Any, Any] | pl.Series = (
        array if array is not None and array.ndim == 1 else as_series(ids, layout.ID)
    )
    if len(found) != n:
        raise ValueError(f"log: {n} input rows but {len(found)} ids")
    return found


def _latency(latency: Any, n: int) -> float | np.ndarray[Any, Any] | None:
    if latency is None:
        return None
    if isinstance(latency, int | float) and not isinstance(latency, bool):
        return float(latency)
    array = np.asarray(latency)
    if array.shape != (n,) or array.dtype.kind not in "iuf":
        raise ValueError(f"log: latency_ms must be a number or {n} numbers")
    return array.astype(np.float64)


def check_time(when: Any, n: int, what: str) -> int | pl.Series:
    if when is None:
        return time.time_ns() // 1000
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return int(when.timestamp() * 1e6)
    series = as_series(when, layout.TIME)
    if series.len() != n:
        raise ValueError(f"{what}: {n} rows but {series.len()} times")
    if not isinstance(series.dtype, pl.Datetime):
        raise ValueError(f"{what}: time must be datetimes, not {series.dtype}")
    if series.dtype.time_zone is None:
        series = series.dt.replace_time_zone("UTC")
    return series.dt.convert_time_zone("UTC").cast(TIME_TYPE)


def times(when: int | pl.Series, n: int) -> pl.Series:
    if isinstance(when, pl.Series):
        return when.alias(layout.TIME)
    return pl.Series(layout.TIME, np.full(n, when, dtype=np.int64)).cast(TIME_TYPE)


def to_frame(
    calls: list[Call], version: int, typed: Any, classes: list[str] | None
) -> pl.DataFrame:
    """One frame of every call, in order; `typed` turns raw predictions into their column,
    `classes` name the columns of array probabilities (else 0, 1, ...)."""
    frames: list[pl.DataFrame] = []
    i = 0
    while i < len(calls):
        key = calls[i].key()
        j = i + 1
        if key is not None:
            while j < len(calls) and calls[j].key() == key:
                j += 1
        frames.append(_convert(calls[i:j], version, typed, classes))
        i = j
    return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]


def _cat(parts: list[Any]) -> Any:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _convert(
    group: list[Call], version: int, typed: Any, classes: list[str] | None
) -> pl.DataFrame:
    n = sum(c.rows for c in group)
    first = group[0]
    if len(group) == 1 and first.key() is None:
        when = times(first.time, n)
    else:
        stamps = np.repeat(
            np.array([c.time for c in group], dtype=np.int64), [c.rows for c in group]
        )
        when = pl.Series(layout.TIME, stamps).cast(TIME_TYPE)
    columns: list[pl.Series] = [
        when,
        pl.Series(layout.VERSION, np.full(n, version, dtype=np.int64)),
    ]
    if first.ids is None:
        columns.append(pl.Series(layout.ID, [None] * n, pl.String))
    else:
        if all(isinstance(c.ids, np.ndarray) for c in group):
            ids = pl.Series(layout.ID, _cat([c.ids for c in group]))
        else:
            ids = pl.concat([pl.Series(layout.ID, c.ids).cast(pl.String) for c in group])
        columns.append(ids.cast(pl.String))
    preds = _cat([c.predictions for c in group]) if first.key() is not None else first.predictions
    columns.append(typed(as_series(preds, layout.PREDICTION)))
    if first.latency is None:
        columns.append(pl.Series(layout.LATENCY, [None] * n, pl.Float64))
    else:
        lat = [
            np.full(c.rows, c.latency) if isinstance(c.latency, float) else c.latency for c in group
        ]
        columns.append(pl.Series(layout.LATENCY, _cat(lat), pl.Float64))
    inputs = first.inputs
    if isinstance(inputs, np.ndarray):
        matrix = _cat([c.inputs for c in group])
        features = pl.from_numpy(matrix, schema=[str(k) for k in range(matrix.shape[1])])
    else:
        features = inputs
    columns += [s.alias(layout.FEATURE_PREFIX + s.name) for s in features.iter_columns()]
    proba = first.probabilities
    if isinstance(proba, np.ndarray):
        matrix = _cat([c.probabilities for c in group]).astype(np.float64)
        width = matrix.shape[1]
        names = classes if classes and len(classes) == width else [str(k) for k in range(width)]
        proba = pl.from_numpy(matrix, schema=names)
    if proba is not None:
        columns += [
            s.cast(pl.Float64).alias(layout.PROBA_PREFIX + s.name) for s in proba.iter_columns()
        ]
    return pl.DataFrame(columns)
