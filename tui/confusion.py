"""Confusion matrices and predictions: the numbers the tables tab shows. Pure, no Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from mmtop.store.tables import ConfusionMatrix

TRUE_NAMES = ("label", "y_true", "true", "target", "actual", "truth", "gold")
PRED_NAMES = ("prediction", "pred", "y_pred", "predicted", "predicted_label")
CONF_NAMES = ("confidence", "probability", "prob", "score", "p", "proba")


def to_confusion(data: Any) -> ConfusionMatrix | None:
    """The store's `ConfusionMatrix` from what a run may hand back: one already, a dict with
    labels and matrix, a square wide frame (first column = true label), or a long frame
    (true, pred, count)."""
    # numpy and pyarrow: loaded when a run's tables are shown, not when the app starts.
    from mmtop.store.tables import ConfusionMatrix

    if data is None:
        return None
    if isinstance(data, ConfusionMatrix):
        return data
    if isinstance(data, dict):
        matrix = data.get("matrix") or data.get("counts")
        labels = data.get("labels")
        if matrix is None:
            return None
        labels = [str(x) for x in (labels or range(len(matrix)))]
        return ConfusionMatrix(labels, [[int(v) for v in row] for row in matrix])
    labels = getattr(data, "labels", None)
    matrix = getattr(data, "matrix", None)
    if labels is not None and matrix is not None:
        return ConfusionMatrix([str(x) for x in labels], [[int(v) for v in row] for row in matrix])
    if isinstance(data, pl.DataFrame):
        return _from_frame(data)
    return None


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in columns}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def _from_frame(df: pl.DataFrame) -> ConfusionMatrix | None:
    from mmtop.store.tables import ConfusionMatrix

    true_col = _find(df.columns, TRUE_NAMES)
    pred_col = _find(df.columns, PRED_NAMES)
    count_col = _find(df.columns, ("count", "n", "value"))
    if true_col and pred_col:
        agg = (
            df.group_by(true_col, pred_col).agg(pl.col(count_col).sum().alias("n"))
            if count_col
            else df.group_by(true_col, pred_col).len(name="n")
        )
        labels = sorted(
            {str(x) for x in agg[true_col].to_list()} | {str(x) for x in agg[pred_col].to_list()}
        )
        index = {label: i for i, label in enumerate(labels)}
        counts = [[0] * len(labels) for _ in labels]
        for t, p, n in agg.iter_rows():
            counts[index[str(t)]][index[str(p)]] += int(n or 0)
        return ConfusionMatrix(labels, counts)
    # Wide: first column names the true class, one numeric column per predicted class.
    if df.width >= 2 and df.height == df.width - 1:
        labels = [str(x) for x in df.get_column(df.columns[0]).to_list()]
        counts = [[int(v or 0) for v in row[1:]] for row in df.iter_rows()]
        return ConfusionMatrix(labels, counts)
    if df.width == df.height and all(dt.is_numeric() for dt in df.dtypes):
        return ConfusionMatrix(
            list(df.columns), [[int(v or 0) for v in row] for row in df.iter_rows()]
        )
    return None


def prediction_columns(df: pl.DataFrame) -> tuple[str | None, str | None, str | None]:
    return (
        _find(df.columns, TRUE_NAMES),
        _find(df.columns, PRED_NAMES),
        _find(df.columns, CONF_NAMES),
    )


def wrong_first(df: pl.DataFrame) -> pl.DataFrame:
    """Mistakes first, most confident first: where a model is sure and wrong is what to see."""
    true_col, pred_col, conf_col = prediction_columns(df)
    keys: list[pl.Expr] = []
    descending: list[bool] = []
    if true_col and pred_col:
        keys.append(
            (pl.col(true_col).cast(pl.String) != pl.col(pred_col).cast(pl.String)).alias("_w")
        )
        descending.append(True)
    if conf_col:
        keys.append(pl.col(conf_col))
        descending.append(True)
    if not keys:
        return df
    return df.sort(keys, descending=descending, nulls_last=True, maintain_order=True)
