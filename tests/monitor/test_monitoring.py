"""The issue's scenario: 6 daily windows, the last two with two features shifted."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mmtop import store
from mmtop.store.monitoring.report import join_labels

from .conftest import Data, Result

DAY0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
PER_WINDOW = 2000
SHIFTED = ["f0", "f2"]


def _serve(root: Path, data: Data, windows: range) -> None:
    """Log a day of predictions per window, labels for half of them; days 4-5 shifted."""
    with store.monitor("clf", "prod", root=root) as mon:
        for w in windows:
            rows = slice(w * PER_WINDOW, (w + 1) * PER_WINDOW)
            x = data.x_pool[rows]
            if w >= 4:
                x = x.with_columns(pl.col(c) + 2.5 for c in SHIFTED)
            pred = data.model.predict(x.to_numpy())
            ids = [f"{w}-{i}" for i in range(PER_WINDOW)]
            when = DAY0 + dt.timedelta(days=w, hours=6)
            mon.log(
                x,
                pred,
                probabilities=data.model.predict_proba(x.to_numpy()),
                ids=ids,
                latency_ms=np.linspace(1, 20, PER_WINDOW),
                time=when,
            )
            half = PER_WINDOW // 2
            mon.log_labels(ids[:half], data.y_pool[rows][:half], time=when)


@pytest.fixture
def deployed(tmp_path: Path, data: Data) -> Path:
    root = tmp_path / "mmruns"
    with store.Run("clf", root=root, capture_system=False, capture_code=False) as run:
        run.log_model(data.model, "clf", baseline=data.x_val, baseline_y=data.y_val)
    store.open(root).deploy("clf/1", "prod")
    return root


def test_drift_on_exactly_the_shifted_features_and_windows(deployed: Path, data: Data) -> None:
    _serve(deployed, data, range(6))
    report = store.open(deployed).monitoring("clf", "prod", window="1d")
    assert report.status == "alert"
    w = report.windows
    assert w["rows"].to_list() == [PER_WINDOW] * 6
    assert w["start"].to_list() == [DAY0 + dt.timedelta(days=d) for d in range(6)]
    assert w["label_coverage"].to_list() == [0.5] * 6
    flagged = report.drift.filter(pl.col("drift"))
    assert sorted(flagged.select("window", "column").rows()) == [
        (4, "f0"),
        (4, "f2"),
        (5, "f0"),
        (5, "f2"),
    ]
    data_alerts = report.alerts.filter(pl.col("kind") == "data_drift")
    assert sorted(data_alerts.select("window", "column").rows()) == sorted(
        flagged.select("window", "column").rows()
    )
    base_acc = report.baseline_metrics["1"]["accuracy"]
    acc = w["accuracy"].to_list()
    assert all(abs(a - base_acc) < 0.05 for a in acc[:4])
    assert all(a < base_acc - 0.05 for a in acc[4:])
    perf = report.alerts.filter(pl.col("kind") == "performance")
    assert sorted(set(perf["window"].to_list())) == [4, 5]
    assert set(report.alerts["window"].to_list()) == {4, 5}
    assert w["alert"].to_list() == [False] * 4 + [True] * 2
    # latency is np.linspace(1, 20, n) in every window
    assert w["latency_p50"][0] == pytest.approx(
        float(np.quantile(np.linspace(1, 20, PER_WINDOW), 0.5)), rel=1e-3
    )
    assert report.story[0].startswith("v1 (prod since ")
    assert "drift alert on f0, f2 from 2026-03-05 00:00 UTC (2 windows)" in report.story[1]


def test_count_windows_and_overrides(deployed: Path, data: Data) -> None:
    _serve(deployed, data, range(6))
    s = store.open(deployed)
    by_count = s.monitoring("clf", "prod", window=3000)
    assert by_count.windows["rows"].to_list() == [3000, 3000, 3000, 3000]
    distances = {"psi": 100, "wasserstein": 100, "js": 100}
    shifted = s.monitoring("clf", "prod", thresholds=distances, max_drop=1.0)
    # Shifted by 2.5 std, more than 5% of f0 and f2 lie beyond the baseline's maximum.
    assert sorted(shifted.alerts.select("window", "kind", "column").rows()) == [
        (4, "out_of_range", "f0"),
        (4, "out_of_range", "f2"),
        (5, "out_of_range", "f0"),
        (5, "out_of_range", "f2"),
    ]
    loose = s.monitoring("clf", "prod", thresholds={**distances, "out_of_range": 1.0}, max_drop=1.0)
    assert loose.status == "ok"
    with pytest.raises(ValueError, match="bad window '1w'"):
        s.monitoring("clf", "prod", window="1w")


def test_mmtop_monitor_exit_codes(deployed: Path, data: Data, cli: Callable[..., Result]) -> None:
    r = cli("monitor", "clf", "--root", deployed)
    assert (r.code, r.out.splitlines()[0]) == (
        0,
        "clf at prod: NO DATA (no predictions logged; window 1d)",
    )
    _serve(deployed, data, range(4))
    healthy = cli("monitor", "clf", "--root", deployed)
    assert healthy.code == 0, healthy.out
    assert healthy.out.startswith("clf at prod: OK (0 alert(s) in 0 of 4 windows; window 1d)\n")
    _serve(deployed, data, range(4, 6))
    alert = cli("monitor", "clf", "--root", deployed, "--target", "prod")
    assert alert.code == 3
    assert "  window 4 (2026-03-05 00:00): drift on f0 (" in alert.out
    doc = json.loads(cli("monitor", "clf", "--root", deployed, "-f", "json").out)
    assert doc["status"] == "alert" and len(doc["windows"]) == 6
    assert {(d["window"], d["column"]) for d in doc["drift"]} == {
        (4, "f0"),
        (4, "f2"),
        (5, "f0"),
        (5, "f2"),
    }
    csv = cli("monitor", "clf", "--root", deployed, "-f", "csv")
    assert csv.code == 3 and csv.out.splitlines()[0].startswith("window,start,end,rows")
    loose = cli(
        "monitor",
        "clf",
        "--root",
        deployed,
        "--psi",
        "9",
        "--wasserstein",
        "9",
        "--js",
        "9",
        "--out-of-range",
        "1",
        "--max-drop",
        "1",
    )
    assert loose.code == 0
    assert cli("monitor", "clf", "--root", deployed, "--window", "1w").code == 2
    assert cli("monitor", "nope", "--root", deployed).code == 1


def test_retrain_lineage_round_trip(deployed: Path, data: Data, cli: Callable[..., Result]) -> None:
    _serve(deployed, data, range(6))
    with store.Run(
        "clf", root=deployed, parent_model="clf@prod", capture_system=False, capture_code=False
    ) as run:
        train = data.x_pool[8000:12000]
        run.log_dataset(train, "train")
        run.log_model(
            data.model,
            "clf",
            baseline=data.x_val,
            baseline_y=data.y_val,
            reason="drift on f0, f2",
        )
    s = store.open(deployed)
    v2 = s.model("clf/2")
    assert v2.lineage()["parent"] == {"name": "clf", "version": 1}
    assert v2.lineage()["reason"] == "drift on f0, f2"
    assert s.model("clf/1").lineage()["children"] == ["clf/2"]
    s.deploy("clf/2", "prod", note="retrained")
    report = s.monitoring("clf", "prod")
    fingerprint = v2.lineage()["datasets"][0]["fingerprint"]
    retrained = f"  -> v2 retrained: drift on f0, f2 (run {run.run_id}; data train {fingerprint})"
    assert report.story[0].startswith("v1 (prod since ")
    assert report.story[1].startswith("  drift alert on f0, f2 from 2026-03-05")
    assert report.story[-2:] == [retrained, report.story[-1]]
    assert report.story[-1].startswith("v2 (prod since ")
    text = cli("models", "lineage", "clf/2", "--root", deployed).out
    assert "parent   clf/1  retrained: drift on f0, f2\n" in text
    assert "version  clf/2  serving at prod\n" in text
    monitor = cli("monitor", "clf", "--root", deployed).out
    assert "deployments and retraining\n  v1 (prod since " in monitor


def test_join_labels_pairs_exactly_the_ids_a_string_join_pairs() -> None:
    logged = pl.DataFrame(
        {
            "window": [0, 0, 1, 1, 2, 2],
            "id": ["a", "b", "a", None, "c", "d"],
            "prediction": ["1", "0", "1", "1", "0", "0"],
        }
    )
    labels = pl.DataFrame({"id": ["a", "c", None, "d", "e"], "label": ["1", "0", "1", None, "1"]})
    expected = (
        logged.join(labels.rename({"label": "_label"}), on="id", how="inner")
        .filter(pl.col("_label").is_not_null())
        .select("window", "prediction", "_label")
        .sort("window", "prediction", "_label")
    )
    got = join_labels(logged, labels).sort("window", "prediction", "_label")
    assert got.to_dicts() == expected.to_dicts()
    assert got.to_dicts() == [
        {"window": 0, "prediction": "1", "_label": "1"},
        {"window": 1, "prediction": "1", "_label": "1"},
        {"window": 2, "prediction": "0", "_label": "0"},
    ]
