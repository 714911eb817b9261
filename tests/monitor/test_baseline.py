"""Baselines stored at registration: profiles, prediction distribution, validation metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import accuracy_score, f1_score

from mmtop import store

from .conftest import FEATURES, Data

RUN: dict[str, Any] = {"capture_system": False, "capture_code": False}


def test_log_model_with_baseline_stores_profiles_and_metrics(tmp_path: Path, data: Data) -> None:
    root = tmp_path / "mmruns"
    with store.Run("clf", root=root, **RUN) as run:
        v = run.log_model(
            data.model,
            "clf",
            baseline=data.x_val,
            baseline_y=data.y_val,
            drift_thresholds={"psi": 0.3},
        )
    base = store.open(root).model(v.ref).baseline()
    assert base is not None
    assert (
        base["source"] == "argument" and base["rows"] == 3000 and base["task"] == "classification"
    )
    assert base["classes"] == ["0", "1"]
    assert list(base["features"]["columns"]) == FEATURES
    assert base["features"]["sample"]["rows"] == 3000
    col = base["features"]["columns"]["f0"]
    mean = data.x_val["f0"].mean()  # typed by polars as any scalar; a float here
    assert col["mean"] == pytest.approx(float(mean), abs=1e-12)  # type: ignore[arg-type]
    pred = data.model.predict(data.x_val.to_numpy())
    assert base["metrics"]["accuracy"] == pytest.approx(accuracy_score(data.y_val, pred), abs=1e-12)
    assert base["metrics"]["f1"] == pytest.approx(
        f1_score(data.y_val, pred, average="macro"), abs=1e-12
    )
    counts = base["predictions"]["columns"]["prediction"]["categories"]
    assert counts == {str(k): int((pred == k).sum()) for k in (0, 1)}
    assert base["thresholds"] == {
        "psi": 0.3,
        "wasserstein": 0.1,
        "js": 0.1,
        "null_share": 0.05,
        "out_of_range": 0.05,
        "unseen": 0.05,
    }
    manifest = store.open(root).model(v.ref).manifest
    assert manifest["baseline"] == "baseline.json"
    paths = {f["path"] for f in manifest["files"]}
    assert {"baseline.json", "baseline_sample.parquet"} <= paths
    assert store.open(root).model(v.ref).verify().ok


def test_baseline_from_a_table_the_run_logged(tmp_path: Path, data: Data) -> None:
    root = tmp_path / "mmruns"
    with store.Run("clf", root=root, **RUN) as run:
        run.log_table("validation", data.x_val.with_columns(label=pl.Series(data.y_val)))
        v = run.log_model(data.model, "clf")
        plain = store.open(root).register_model("other", data.model)
    base = store.open(root).model(v.ref).baseline()
    assert base is not None and base["source"] == "table:validation"
    assert list(base["features"]["columns"]) == FEATURES  # the label column is not a feature
    assert base["metrics"]["accuracy"] > 0.7
    assert plain.baseline() is None and plain.manifest["baseline"] is None


def test_numpy_baseline_names_columns_like_input_examples(tmp_path: Path, data: Data) -> None:
    root = tmp_path / "mmruns"
    with store.Run("clf", root=root, **RUN) as run:
        v = run.log_model(data.model, "clf", baseline=data.x_val.to_numpy())
    base = v.baseline()
    assert base is not None and base["input_kind"] == "tensor"
    assert list(base["features"]["columns"]) == [str(i) for i in range(len(FEATURES))]
    assert base["metrics"] == {} and base["labels"] is None


def test_bad_baselines_are_refused_and_nothing_is_registered(tmp_path: Path, data: Data) -> None:
    root = tmp_path / "mmruns"
    with store.Run("clf", root=root, **RUN) as run:
        with pytest.raises(ValueError, match="baseline_y has 5 rows, the baseline 3000"):
            run.log_model(data.model, "clf", baseline=data.x_val, baseline_y=np.zeros(5))
        with pytest.raises(ValueError, match="no column 'nope'"):
            run.log_model(data.model, "clf", baseline=data.x_val, baseline_y="nope")
        with pytest.raises(ValueError, match="unknown drift threshold 'psy'"):
            run.log_model(data.model, "clf", drift_thresholds={"psy": 1})
    assert store.open(root).models().height == 0
