"""What `autolog` and `log_estimator` record about a fitted scikit-learn estimator."""

from __future__ import annotations

import math
from typing import Any

from ._common import plain


def estimator_params(est: Any) -> dict[str, Any]:
    """`get_params(deep=True)` as nested JSON: `pipe__clf__C` stays a key as scikit-learn
    spells it, and estimators among the values become their text."""
    value = plain({k: param_value(v) for k, v in est.get_params(deep=True).items()})
    return value if isinstance(value, dict) else {}


def estimator_params_of(params: dict[str, Any]) -> dict[str, Any]:
    """A search candidate's params (`cv_results_["params"][i]`) as nested JSON."""
    value = plain({k: param_value(v) for k, v in params.items()})
    return value if isinstance(value, dict) else {}


def param_value(value: Any) -> Any:
    if hasattr(value, "get_params") and not isinstance(value, type):
        return repr(value)
    return value


def kind(est: Any) -> str | None:
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(est):
        return "classifier"
    if is_regressor(est):
        return "regressor"
    return None


def metrics(est: Any, X: Any, y: Any, prefix: str) -> tuple[dict[str, float], Any]:
    """MLflow's sklearn autolog set of metrics of `est` on (X, y), keyed `<prefix>/<name>`,
    and the predictions (None for an estimator that neither classifies nor regresses)."""
    from sklearn import metrics as m

    what = kind(est)
    if what is None or y is None or not hasattr(est, "predict"):
        return {}, None
    pred = est.predict(X)
    out: dict[str, float] = {}
    if what == "classifier":
        out["accuracy"] = m.accuracy_score(y, pred)
        avg = "weighted"
        out["precision"] = m.precision_score(y, pred, average=avg, zero_division=0)
        out["recall"] = m.recall_score(y, pred, average=avg, zero_division=0)
        out["f1"] = m.f1_score(y, pred, average=avg, zero_division=0)
        if hasattr(est, "predict_proba"):
            try:
                proba = est.predict_proba(X)
            except (AttributeError, ValueError, NotImplementedError):
                proba = None
            if proba is not None:
                labels = getattr(est, "classes_", None)
                out["log_loss"] = m.log_loss(y, proba, labels=labels)
                try:
                    out["roc_auc"] = (
                        m.roc_auc_score(y, proba[:, 1])
                        if proba.shape[1] == 2
                        else m.roc_auc_score(
                            y, proba, multi_class="ovr", average=avg, labels=labels
                        )
                    )
                except ValueError:  # a class missing from y: no AUC
                    pass
    else:
        mse = m.mean_squared_error(y, pred)
        out["mse"] = mse
        out["rmse"] = math.sqrt(mse)
        out["mae"] = m.mean_absolute_error(y, pred)
        out["r2"] = m.r2_score(y, pred)
    return {f"{prefix}/{k}": float(v) for k, v in out.items()}, pred


def data_columns(X: Any, y: Any) -> dict[str, Any] | None:
    """(X, y) as a dict of columns to fingerprint; None for data that has no columns
    (sparse matrices, lists of documents)."""
    import numpy as np

    if hasattr(X, "columns") and hasattr(X, "__getitem__"):
        cols = {str(c): np.asarray(X[c]) for c in X.columns}
    else:
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError):
            return None
        if arr.ndim != 2 or arr.dtype == object:
            return None
        cols = {f"x{i}": arr[:, i] for i in range(arr.shape[1])}
    if y is not None:
        target = np.asarray(y)
        if target.ndim == 1 and target.dtype != object:
            cols["target"] = target
    return cols


def cv_table(results: dict[str, Any]) -> dict[str, Any]:
    """`cv_results_` as columns a Parquet table takes: numbers stay numbers; the param_*
    columns (masked object arrays) become text; `params` becomes one text column."""
    import json

    import numpy as np

    out: dict[str, Any] = {}
    for key, values in results.items():
        if key == "params":
            out[key] = [json.dumps(plain(p), sort_keys=True) for p in values]
            continue
        arr = np.asarray(np.ma.getdata(values))
        mask = np.ma.getmaskarray(values)
        if arr.dtype.kind in "biuf":
            # A candidate without this param is masked: null, not the array's fill value.
            out[key] = [None if hidden else v.item() for v, hidden in zip(arr, mask, strict=True)]
        else:
            out[key] = [None if hidden else str(v) for v, hidden in zip(arr, mask, strict=True)]
    return out
