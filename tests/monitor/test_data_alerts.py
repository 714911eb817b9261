"""Null-share, out-of-range and unseen-category alerts: injected into exactly some windows
of a real model's served inputs, they fire on exactly those features and windows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mmtop import store

from .conftest import Result

DAY0 = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
PER_WINDOW = 2000
NUMERIC = [f"f{i}" for i in range(5)]
QUALITY = ("null_share", "out_of_range", "unseen_category")


@pytest.fixture(scope="module")
def served() -> tuple[Any, pl.DataFrame, np.ndarray[Any, Any], pl.DataFrame]:
    """A scikit-learn pipeline (one-hot segment + logistic regression) on make_classification
    rows with a categorical `segment` column: the model, validation rows and labels, and a
    pool of rows to serve."""
    from sklearn.compose import ColumnTransformer
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    x, y = make_classification(
        n_samples=20_000, n_features=len(NUMERIC), n_informative=3, n_redundant=0, random_state=4
    )
    segment = np.array(["north", "south", "east", "west"])[np.digitize(x[:, 4], [-0.7, 0, 0.7])]
    frame = pl.DataFrame(x, schema=NUMERIC).with_columns(segment=pl.Series(segment))
    encode = ColumnTransformer(
        [("segment", OneHotEncoder(handle_unknown="ignore"), ["segment"])],
        remainder="passthrough",
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=500))
    model.fit(frame[:5000].to_pandas(), y[:5000])
    return model, frame[5000:8000], y[5000:8000], frame[8000:]


def _root(tmp_path: Path, served: Any, thresholds: dict[str, float] | None = None) -> Path:
    model, x_val, y_val, _ = served
    root = tmp_path / "mmruns"
    with store.Run("seg", root=root, capture_system=False, capture_code=False) as run:
        run.log_model(model, "seg", baseline=x_val, baseline_y=y_val, drift_thresholds=thresholds)
    store.open(root).deploy("seg/1", "prod")
    return root


def _inject(x: pl.DataFrame, window: int) -> pl.DataFrame:
    """Window 1: 20% nulls in f1. Window 2: 10% of f3 a hundred times too large. Window 4:
    10% of segment in categories never seen. Window 5: 3% nulls in f2 (under 0.05)."""
    row = pl.int_range(pl.len())
    if window == 1:
        return x.with_columns(pl.when(row % 5 == 0).then(None).otherwise(pl.col("f1")).alias("f1"))
    if window == 2:
        return x.with_columns(
            pl.when(row % 10 == 0).then(pl.col("f3") * 100 + 50).otherwise(pl.col("f3"))
        )
    if window == 4:
        new = pl.when(row % 20 == 0).then(pl.lit("mars")).otherwise(pl.lit("venus"))
        return x.with_columns(
            pl.when(row % 10 == 0).then(new).otherwise(pl.col("segment")).alias("segment")
        )
    if window == 5:
        return x.with_columns(pl.when(row % 100 < 3).then(None).otherwise(pl.col("f2")).alias("f2"))
    return x


def _serve(root: Path, served: Any, windows: range) -> None:
    model, _, _, pool = served
    with store.monitor("seg", "prod", root=root) as mon:
        for w in windows:
            clean = pool[w * PER_WINDOW : (w + 1) * PER_WINDOW]
            mon.log(
                _inject(clean, w),
                model.predict(clean.to_pandas()),
                time=DAY0 + dt.timedelta(days=w, hours=5),
            )


def _quality_alerts(report: Any) -> list[tuple[str, int, str]]:
    alerts = report.alerts.filter(pl.col("kind").is_in(QUALITY))
    return sorted(alerts.select("kind", "window", "column").rows())


def test_alerts_fire_on_exactly_the_injected_features_and_windows(
    tmp_path: Path, served: Any
) -> None:
    root = _root(tmp_path, served)
    _serve(root, served, range(6))
    report = store.open(root).monitoring("seg", "prod", window="1d")
    assert _quality_alerts(report) == [
        ("null_share", 1, "f1"),
        ("out_of_range", 2, "f3"),
        ("unseen_category", 4, "segment"),
    ]
    drift = report.drift
    nulls = drift.filter(pl.col("column") == "f1")["null_share"].to_list()
    assert nulls == [0.0, 0.2, 0.0, 0.0, 0.0, 0.0]
    assert drift.filter(pl.col("column") == "f2")["null_share"][5] == 0.03  # under 0.05
    unseen = drift.filter((pl.col("column") == "segment") & (pl.col("window") == 4)).row(
        0, named=True
    )
    assert (unseen["unseen_share"], unseen["unseen"]) == (0.1, ["mars", "venus"])
    by_kind = {r["kind"]: r for r in report.alerts.filter(pl.col("kind").is_in(QUALITY)).to_dicts()}
    assert by_kind["null_share"]["value"] == 0.2
    assert by_kind["null_share"]["threshold"] == 0.05  # the baseline's 0 + 0.05
    assert by_kind["null_share"]["message"] == "null share of f1 0.2 (baseline 0)"
    assert by_kind["unseen_category"]["message"] == (
        "0.1 of segment in unseen categories ('mars', 'venus')"
    )
    outside = by_kind["out_of_range"]["value"]
    base = store.open(root).model("seg/1").baseline()
    assert base is not None
    col = base["features"]["columns"]["f3"]
    f3 = _inject(served[3][2 * PER_WINDOW : 3 * PER_WINDOW], 2)["f3"]
    expected = ((f3 < col["min"]) | (f3 > col["max"])).mean()
    assert outside == expected and outside > 0.05
    flagged = {w for _, w, _ in _quality_alerts(report)}
    assert report.windows["alert"].to_list() == [w in flagged for w in range(6)]


def test_thresholds_per_model_and_per_call(tmp_path: Path, served: Any) -> None:
    loose = {"null_share": 0.5, "out_of_range": 0.5}
    root = _root(tmp_path, served, thresholds=loose)
    _serve(root, served, range(6))
    s = store.open(root)
    assert _quality_alerts(s.monitoring("seg", "prod")) == [("unseen_category", 4, "segment")]
    strict = s.monitoring("seg", "prod", thresholds={"null_share": 0.02, "unseen": None})
    assert _quality_alerts(strict) == [("null_share", 1, "f1"), ("null_share", 5, "f2")]
    with pytest.raises(ValueError, match="unknown drift threshold 'nulls'"):
        s.monitoring("seg", "prod", thresholds={"nulls": 0.1})


def test_mmtop_monitor_exits_3_on_a_data_quality_alert(
    tmp_path: Path, served: Any, cli: Callable[..., Result]
) -> None:
    root = _root(tmp_path, served)
    _serve(root, served, range(1))
    assert cli("monitor", "seg", "--root", root).code == 0
    _serve(root, served, range(1, 2))
    nulls = cli("monitor", "seg", "--root", root)
    assert nulls.code == 3, nulls.out
    assert "  window 1 (2026-04-02 00:00): null share of f1 0.2 (baseline 0)\n" in nulls.out
    doc = json.loads(cli("monitor", "seg", "--root", root, "-f", "json").out)
    assert [(a["kind"], a["column"]) for a in doc["alerts"]] == [("null_share", "f1")]
    assert cli("monitor", "seg", "--root", root, "--null-share", "0.25").code == 0
    bad = cli("monitor", "seg", "--root", root, "--unseen", "-1")
    assert bad.code == 2
