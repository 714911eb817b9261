"""Model quality on labelled predictions: accuracy and macro F1, or MAE and RMSE.

Computed with polars so a window of a million predictions needs no scikit-learn.
"""

from __future__ import annotations

import math

import polars as pl

CLASSIFICATION = ("accuracy", "f1")
REGRESSION = ("mae", "rmse")


def classification(y_true: pl.Series, y_pred: pl.Series) -> dict[str, float]:
    """Accuracy and macro F1 (per class 2tp / (2tp + fp + fn), averaged over every class
    seen in either column) of two string columns; NaN on no rows."""
    frame = pl.DataFrame({"t": y_true, "p": y_pred}).drop_nulls()
    if frame.height == 0:
        return {"accuracy": math.nan, "f1": math.nan}
    hit = frame["t"] == frame["p"]
    accuracy = _mean(hit.cast(pl.Float64))
    tp = frame.filter(hit).group_by("t").len("tp").rename({"t": "c"})
    true = frame.group_by("t").len("nt").rename({"t": "c"})
    pred = frame.group_by("p").len("np").rename({"p": "c"})
    per = (
        true.join(pred, on="c", how="full", coalesce=True)
        .join(tp, on="c", how="left")
        .fill_null(0)
        .with_columns(f1=2 * pl.col("tp") / (pl.col("nt") + pl.col("np")))
    )
    return {"accuracy": accuracy, "f1": _mean(per["f1"])}


def regression(y_true: pl.Series, y_pred: pl.Series) -> dict[str, float]:
    """Mean absolute error and root mean squared error; NaN on no rows."""
    frame = pl.DataFrame({"t": y_true.cast(pl.Float64), "p": y_pred.cast(pl.Float64)})
    frame = frame.drop_nulls()
    if frame.height == 0:
        return {"mae": math.nan, "rmse": math.nan}
    err = frame["t"] - frame["p"]
    return {
        "mae": _mean(err.abs()),
        "rmse": math.sqrt(_mean(err * err)),
    }


def _mean(values: pl.Series) -> float:
    total = values.sum()
    return float(total) / values.len() if values.len() else math.nan
