"""`mmtop models predict`: a batch deployment that writes predictions and logs them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from mmtop import store
from mmtop.store.monitoring import reader

from .conftest import FEATURES, Data, Result


def test_predict_csv_to_parquet_and_log(
    tmp_path: Path, data: Data, cli: Callable[..., Result]
) -> None:
    root = tmp_path / "mmruns"
    with store.Run("clf", root=root, capture_system=False, capture_code=False) as run:
        run.log_model(data.model, "clf", baseline=data.x_val, baseline_y=data.y_val)
    store.open(root).deploy("clf/1", "batch-nightly")
    x = data.x_pool[:200]
    source = tmp_path / "in.csv"
    x.select(FEATURES[::-1]).with_columns(rid=pl.int_range(200)).write_csv(source)
    r = cli(
        "models",
        "predict",
        "clf@batch-nightly",
        source,
        "-o",
        tmp_path / "out.parquet",
        "--id-column",
        "rid",
        "--root",
        root,
    )
    assert r.code == 0, r.err
    assert (
        r.out == f"clf/1: 200 predictions -> {tmp_path / 'out.parquet'} (logged at batch-nightly)\n"
    )
    out = pl.read_parquet(tmp_path / "out.parquet")
    expected = data.model.predict(x.to_numpy())
    assert out["prediction"].to_list() == expected.tolist()
    np.testing.assert_allclose(
        out[["proba.0", "proba.1"]].to_numpy(), data.model.predict_proba(x.to_numpy()), atol=1e-12
    )
    logged = reader.predictions(root, "clf", "batch-nightly")
    assert logged["id"].to_list() == [str(i) for i in range(200)]
    assert logged["prediction"].to_list() == [str(v) for v in expected]
    assert logged["latency_ms"].null_count() == 0

    plain = cli("models", "predict", "clf/1", source, "-o", tmp_path / "o.csv", "--root", root)
    assert plain.code == 0 and "logged" not in plain.out
    assert reader.predictions(root, "clf", "batch-nightly").height == 200

    missing = tmp_path / "bad.csv"
    x.drop("f3").write_csv(missing)
    bad = cli("models", "predict", "clf/1", missing, "-o", tmp_path / "o.csv", "--root", root)
    assert bad.code == 1 and "lacks 1 feature column(s) of clf/1: f3" in bad.err
    wrong = cli("models", "predict", "clf/1", source, "-o", tmp_path / "o.txt", "--root", root)
    assert wrong.code == 2 and "-o OUTPUT must be a .parquet or .csv file" in wrong.err
