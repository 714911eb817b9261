"""The monitoring report of one model at one target: drift, predictions, quality per window.

`build(...)` reads the target's prediction and label logs, cuts them into windows and
compares each window with the baseline of the version that served it:

- `windows`: one row per window: window, start, end, rows, versions, drifted (features
  flagged), prediction_psi, prediction_js, prediction_drift, latency_p50, latency_p95,
  labelled, label_coverage, accuracy and f1 (or mae and rmse), baseline_<metric>, alert;
- `drift`: one row per window and feature (store/drift.py's columns);
- `alerts`: one row per alert: window, start, kind (data_drift, null_share, out_of_range,
  unseen_category, prediction_drift, performance), column, value, threshold, message.

Data quality is judged per feature against the thresholds (store/drift.py's `Thresholds`):
`null_share` when the window's null share exceeds the baseline's by more than the threshold
(value: the window's share; threshold: the baseline's share plus the threshold),
`out_of_range` when more than the threshold of a numeric feature's values lie outside the
baseline's [min, max], `unseen_category` when more than the threshold of a categorical
feature's values are in categories the baseline never saw.

Performance is judged only on windows with at least `min_labels` labels: accuracy (or F1)
below the baseline's by more than `max_drop`, or MAE/RMSE above it by more than `max_drop`
as a fraction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .. import drift
from ..records import Problem
from . import layout, quality, reader
from .inputs import as_class
from .windows import WINDOW_COLUMN, assign, check_window, spans

MAX_DROP = 0.05
MIN_LABELS = 30

ALERT_SCHEMA: dict[str, Any] = {
    "window": pl.Int64,
    "start": pl.Datetime("us", "UTC"),
    "kind": pl.String,
    "column": pl.String,
    "value": pl.Float64,
    "threshold": pl.Float64,
    "message": pl.String,
}


@dataclass
class MonitoringReport:
    name: str
    target: str
    window: str | int
    windows: pl.DataFrame
    drift: pl.DataFrame
    alerts: pl.DataFrame
    baseline_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    deployments: pl.DataFrame | None = None
    story: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    latest: pl.DataFrame | None = None  # the features of the newest window, for detail views

    @property
    def status(self) -> str:
        """ "alert", "ok", or "no data" (nothing logged yet)."""
        if self.alerts.height:
            return "alert"
        return "ok" if self.windows.height else "no data"


def build(
    root: Path,
    name: str,
    target: str,
    baseline_of: Callable[[int], dict[str, Any] | None],
    *,
    window: str | int = "1d",
    thresholds: dict[str, Any] | None = None,
    max_drop: float = MAX_DROP,
    min_labels: int = MIN_LABELS,
    since: dt.datetime | None = None,
) -> MonitoringReport:
    """The report; `baseline_of(version)` is that version's baseline (None: it has none).

    `thresholds` override every version's own; `since` drops older predictions.
    """
    window = check_window(window)
    problems: list[Problem] = []
    logged = reader.predictions(root, name, target, problems, probabilities=False)
    if since is not None and logged.height:
        logged = logged.filter(pl.col(layout.TIME) >= since)
    if not logged.height:
        return MonitoringReport(
            name,
            target,
            window,
            _empty_windows(),
            pl.DataFrame(schema=_DRIFT_SCHEMA),
            pl.DataFrame(schema=ALERT_SCHEMA),
            problems=problems,
        )
    labels = reader.labels(root, name, target, problems, ordered=False)
    logged = assign(logged, window)
    # Only the labelled predictions, joined once: a left join would copy every feature.
    labelled: dict[int, pl.DataFrame] | None = None
    if labels.height:
        joined = join_labels(logged, labels)
        labelled = {
            int(key[0]): part
            for key, part in joined.partition_by(WINDOW_COLUMN, as_dict=True).items()
        }
        empty = joined.clear()
    rows: list[dict[str, Any]] = []
    drifts: list[pl.DataFrame] = []
    alerts: list[dict[str, Any]] = []
    baselines: dict[int, dict[str, Any] | None] = {}
    prepared: dict[int, drift.Prepared] = {}
    part = logged.clear()
    for index, offset, length in spans(logged):
        part = logged.slice(offset, length)
        version = int(part[layout.VERSION].mode().sort()[0])
        if version not in baselines:
            doc = baseline_of(version)
            baselines[version] = doc
            if doc is not None:
                prepared[version] = drift.prepare(doc["features"])
        base = baselines[version]
        window_labels = None if labelled is None else labelled.get(index, empty)
        row, found, window_alerts = _window(
            index,
            part,
            window_labels,
            base,
            prepared.get(version),
            thresholds,
            max_drop,
            min_labels,
        )
        row["versions"] = sorted(part[layout.VERSION].unique().to_list())
        rows.append(row)
        if found is not None:
            drifts.append(found)
        alerts += window_alerts
    windows = pl.DataFrame(rows).sort(WINDOW_COLUMN)
    return MonitoringReport(
        name,
        target,
        window,
        windows,
        pl.concat(drifts, how="diagonal_relaxed") if drifts else pl.DataFrame(schema=_DRIFT_SCHEMA),
        pl.DataFrame(alerts, schema=ALERT_SCHEMA) if alerts else pl.DataFrame(schema=ALERT_SCHEMA),
        baseline_metrics={
            str(v): dict(b.get("metrics") or {}) for v, b in baselines.items() if b is not None
        },
        problems=problems,
        latest=_features(part),  # the newest window
    )


def join_labels(logged: pl.DataFrame, labels: pl.DataFrame) -> pl.DataFrame:
    """The labelled predictions of `logged` (columns window, prediction, _label): an inner
    join on the ids' 64-bit hashes, then each pair's ids compared, so a hash collision never
    pairs two ids; joining on the hashes costs a third of joining on the strings."""
    hashed = pl.col(layout.ID).hash().alias("_hash")
    left = logged.select(WINDOW_COLUMN, layout.PREDICTION, layout.ID, hashed)
    right = labels.select(
        pl.col(layout.ID).alias("_id"), pl.col(layout.LABEL).alias("_label"), hashed
    ).filter(pl.col("_label").is_not_null())
    return (
        left.join(right, on="_hash", how="inner")
        .filter(pl.col(layout.ID) == pl.col("_id"))
        .select(WINDOW_COLUMN, layout.PREDICTION, "_label")
    )


_DRIFT_SCHEMA: dict[str, Any] = {
    "window": pl.Int64,
    "start": pl.Datetime("us", "UTC"),
    **drift.COLUMNS,
}


def _empty_windows() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "window": pl.Int64,
            "start": pl.Datetime("us", "UTC"),
            "end": pl.Datetime("us", "UTC"),
            "rows": pl.Int64,
            "alert": pl.Boolean,
        }
    )


def _features(part: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in part.columns if c.startswith(layout.FEATURE_PREFIX)]
    return part.select(pl.col(c).alias(c.removeprefix(layout.FEATURE_PREFIX)) for c in cols)


def _window(
    index: int,
    part: pl.DataFrame,
    labelled: pl.DataFrame | None,
    base: dict[str, Any] | None,
    ready: drift.Prepared | None,
    thresholds: dict[str, Any] | None,
    max_drop: float,
    min_labels: int,
) -> tuple[dict[str, Any], pl.DataFrame | None, list[dict[str, Any]]]:
    start = part["start"][0]
    latency = part[layout.LATENCY].drop_nulls() if layout.LATENCY in part.columns else None
    row: dict[str, Any] = {
        WINDOW_COLUMN: index,
        "start": start,
        "end": part["end"][0],
        "rows": part.height,
        "latency_p50": latency.quantile(0.5) if latency is not None and latency.len() else None,
        "latency_p95": latency.quantile(0.95) if latency is not None and latency.len() else None,
    }
    alerts: list[dict[str, Any]] = []

    def alert(kind: str, column: str | None, value: float, limit: float, message: str) -> None:
        alerts.append(
            {
                "window": index,
                "start": start,
                "kind": kind,
                "column": column,
                "value": value,
                "threshold": limit,
                "message": message,
            }
        )

    found = None
    if base is not None and ready is not None:
        limits = drift.Thresholds.from_dict(
            {**(base.get("thresholds") or {}), **(thresholds or {})}
        )
        found = drift.compare(ready, _features(part), thresholds=limits)
        flagged = found.filter(pl.col("drift"))
        row["drifted"] = flagged.height
        for r in flagged.iter_rows(named=True):
            value, limit, what = _worst(r, limits)
            alert(
                "data_drift",
                r["column"],
                value,
                limit,
                f"drift on {r['column']} ({what} {value:.3g})",
            )
        for r in found.iter_rows(named=True):
            _data_quality(r, limits, alert)
        found = found.with_columns(
            pl.lit(index, pl.Int64).alias(WINDOW_COLUMN), pl.lit(start).alias("start")
        ).select(list(_DRIFT_SCHEMA))
        _predictions(row, part, base, limits, alert)
        _quality(row, part.height, labelled, base, max_drop, min_labels, alert)
    row["alert"] = bool(alerts)
    return row, found, alerts


def _data_quality(r: dict[str, Any], limits: drift.Thresholds, alert: Any) -> None:
    """The null-share, out-of-range and unseen-category alerts of one feature's drift row."""
    column = r["column"]
    nulls, before = r["null_share"], r["baseline_null_share"] or 0.0
    if limits.null_share is not None and nulls is not None and nulls - before > limits.null_share:
        alert(
            "null_share",
            column,
            nulls,
            before + limits.null_share,
            f"null share of {column} {nulls:.3g} (baseline {before:.3g})",
        )
    outside = r["out_of_range_share"]
    if limits.out_of_range is not None and outside is not None and outside > limits.out_of_range:
        alert(
            "out_of_range",
            column,
            outside,
            limits.out_of_range,
            f"{outside:.3g} of {column} outside the baseline's range",
        )
    unseen = r["unseen_share"]
    if limits.unseen is not None and unseen is not None and unseen > limits.unseen:
        named = ", ".join(repr(v) for v in (r["unseen"] or [])[:5])
        alert(
            "unseen_category",
            column,
            unseen,
            limits.unseen,
            f"{unseen:.3g} of {column} in unseen categories ({named})",
        )


def _worst(r: dict[str, Any], limits: drift.Thresholds) -> tuple[float, float, str]:
    """The distance of a flagged row that is furthest over its threshold."""
    best = (0.0, 0.0, "")
    ratio = -1.0
    for key, limit in (("psi", limits.psi), ("wasserstein", limits.wasserstein), ("js", limits.js)):
        value = r.get(key)
        if value is None or limit is None or math.isnan(value) or value <= limit:
            continue
        over = value / limit if limit else math.inf
        if over > ratio:
            ratio, best = over, (float(value), float(limit), key)
    return best


def _predictions(
    row: dict[str, Any],
    part: pl.DataFrame,
    base: dict[str, Any],
    limits: drift.Thresholds,
    alert: Any,
) -> None:
    profile = base.get("predictions")
    if not profile:
        return
    found = drift.compare(profile, part.select(layout.PREDICTION), thresholds=limits).row(
        0, named=True
    )
    row["prediction_psi"] = found["psi"]
    row["prediction_js"] = found["js"]
    row["prediction_drift"] = found["drift"]
    if found["drift"]:
        value, limit, what = _worst(found, limits)
        alert(
            "prediction_drift",
            layout.PREDICTION,
            value,
            limit,
            f"prediction drift ({what} {value:.3g})",
        )


def _quality(
    row: dict[str, Any],
    rows: int,
    labelled: pl.DataFrame | None,
    base: dict[str, Any],
    max_drop: float,
    min_labels: int,
    alert: Any,
) -> None:
    """Quality on the window's `labelled` predictions (columns prediction, _label; None:
    no label was ever logged) out of its `rows`."""
    if labelled is None:
        row["labelled"] = 0
        row["label_coverage"] = 0.0
        return
    row["labelled"] = labelled.height
    row["label_coverage"] = labelled.height / rows
    if base.get("task") == "classification":
        found = quality.classification(
            as_class(labelled["_label"]), labelled[layout.PREDICTION].cast(pl.String)
        )
        worse = {k: -(v) for k, v in found.items()}  # higher is better
    elif base.get("task") == "regression":
        found = quality.regression(labelled["_label"], labelled[layout.PREDICTION])
        worse = dict(found)
    else:
        return
    reference = base.get("metrics") or {}
    for key, value in found.items():
        row[key] = value if labelled.height else None
        ref = reference.get(key)
        row[f"baseline_{key}"] = ref
        if ref is None or labelled.height < min_labels or math.isnan(value):
            continue
        if worse[key] < 0:  # accuracy, F1: an absolute drop
            limit = ref - max_drop
            if value < limit:
                alert(
                    "performance",
                    key,
                    value,
                    limit,
                    f"{key} {value:.3f} < {ref:.3f} - {max_drop:g}",
                )
        else:  # MAE, RMSE: a relative rise
            limit = ref * (1 + max_drop)
            if value > limit:
                alert(
                    "performance",
                    key,
                    value,
                    limit,
                    f"{key} {value:.3g} > {ref:.3g} x {1 + max_drop:g}",
                )
