"""Writes on a store on object storage beyond a run's own logging, against the local S3
server: framework integrations, `mmtop models predict --target`, `register_model` through an
opened store, and `parent_model=`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mmtop import store
from mmtop.store.s3.reader import S3Store


@pytest.fixture
def mirror_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("MMTOP_CACHE", str(home))
    return home


@pytest.fixture
def no_autolog() -> Iterator[None]:
    yield
    from mmtop.store.integrations.sklearn import autolog

    autolog(disable=True)


def test_sklearn_autolog_logs_to_an_s3_root(
    s3_url: str, mirror_home: Path, no_autolog: None
) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("skops")
    from sklearn.datasets import load_digits
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_squared_error

    from mmtop.store.integrations.sklearn import autolog

    X, y = load_digits(return_X_y=True)
    X, y = X[:200], y[:200].astype(float)
    autolog(experiment="sk", root=s3_url, log_models="ridge", capture_system=False)
    ridge = Ridge(alpha=2.0).fit(X, y)

    st = store.open(s3_url)
    (run_id,) = st.runs()["run_id"].to_list()
    run = st.run(run_id)
    assert run.name == "Ridge" and run.status == "finished"
    assert run.params["alpha"] == 2.0
    hist = st.history(run_id, ["train/rmse"])
    rmse = math.sqrt(mean_squared_error(y, ridge.predict(X)))
    assert hist["value"].to_list() == [rmse]
    assert st.model("ridge").run_id == run_id


def test_lightning_logger_logs_to_an_s3_root(s3_url: str, mirror_home: Path) -> None:
    pytest.importorskip("torch", reason="Lightning needs torch (CI installs the CPU build)")
    pytest.importorskip("lightning", reason="the lightning extra is not installed")
    from mmtop.store.integrations.lightning import MmtopLogger

    logger = MmtopLogger(experiment="pl", root=s3_url, capture_system=False)
    assert logger.save_dir == s3_url and logger.root_dir == f"{s3_url}/pl"
    logger.log_hyperparams({"lr": 0.01})
    logger.log_metrics({"loss": 0.5}, step=0)
    logger.log_metrics({"loss": 0.25}, step=1)
    logger.finalize("success")

    st = store.open(s3_url)
    run = st.run(logger.version)
    assert run.status == "finished" and run.params == {"lr": 0.01}
    assert st.history(run.run_id, ["loss"])["value"].to_list() == [0.5, 0.25]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """`mmtop ARGS...` in process."""
    from mmtop.tui.cli import main

    def run(*args: str) -> Result:
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def test_models_predict_logs_predictions_at_a_target_on_s3(
    s3_url: str, mirror_home: Path, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    pytest.importorskip("skops")
    from sklearn.linear_model import LogisticRegression

    from mmtop.store.monitoring import reader

    rng = np.random.default_rng(0)
    x = pl.DataFrame({"f0": rng.normal(size=120), "f1": rng.normal(size=120)})
    y = (x["f0"] + x["f1"] > 0).cast(pl.Int64).to_numpy()
    model = LogisticRegression().fit(x.to_numpy(), y)
    with store.Run("clf", root=s3_url, capture_system=False, capture_code=False) as run:
        run.log_model(model, "clf", baseline=x, baseline_y=y)
    source, dest = tmp_path / "in.csv", tmp_path / "out.parquet"
    x.head(30).with_columns(rid=pl.int_range(30)).write_csv(source)

    r = cli(
        "models", "predict", "clf/1", str(source), "-o", str(dest), "--target", "batch",
        "--id-column", "rid", "--root", s3_url,
    )  # fmt: skip
    assert r.code == 0, r.err
    assert r.out == f"clf/1: 30 predictions -> {dest} (logged at batch)\n"
    expected = [str(v) for v in model.predict(x.head(30).to_numpy())]
    assert pl.read_parquet(dest)["prediction"].cast(pl.String).to_list() == expected
    st = store.open(s3_url)
    logged = reader.predictions(st.root, "clf", "batch")
    assert logged["id"].to_list() == [str(i) for i in range(30)]
    assert logged["prediction"].to_list() == expected
    assert logged["version"].unique().to_list() == [1]


def test_register_model_through_an_opened_s3_store(
    s3_url: str, mirror_home: Path, tmp_path: Path
) -> None:
    with store.Run("train", root=s3_url, params={"lr": 0.1}, capture_system=False) as run:
        run.log({"acc": 0.9}, step=0)
        weights = tmp_path / "weights.bin"
        weights.write_bytes(b"w" * 64)
        run.log_artifact(weights)
        run.log_model(str(weights), "clf")  # version 1, by the writer
    st = store.open(s3_url)
    two = st.register_model(
        "clf", run=run.run_id, path="weights.bin", aliases=["champion"], description="two"
    )
    assert (two.name, two.version) == ("clf", 2)
    other = tmp_path / "other.bin"
    other.write_bytes(b"o" * 10)
    three = st.register_model("fresh", path=other, parent="clf@champion")
    assert (three.name, three.version) == ("fresh", 1)

    cold = S3Store(s3_url, mirror_cache=tmp_path / "cold")  # another process's view
    got = cold.model("clf@champion")
    assert got.version == 2 and got.run_id == run.run_id
    assert [f["size"] for f in got.files] == [64]
    assert got.lineage()["params"] == {"lr": 0.1}
    assert cold.model("fresh/1").lineage()["parent"] == {"name": "clf", "version": 2}
    assert sorted(cold.models("clf")["version"].to_list()) == [1, 2]
    with pytest.raises(ValueError, match="either a model object or path"):
        st.register_model("clf")


def test_parent_model_on_an_s3_run_pins_the_version_and_is_the_new_versions_parent(
    s3_url: str, mirror_home: Path, tmp_path: Path
) -> None:
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w")
    with store.Run("train", root=s3_url, capture_system=False) as first:
        first.log_model(str(weights), "clf", aliases=["champion"])
    with store.Run(
        "train", root=s3_url, capture_system=False, parent_model="clf@champion"
    ) as retrain:
        retrain.log_model(str(weights), "clf")
    assert retrain.meta["parent_model"] == {"name": "clf", "version": 1}
    st = store.open(s3_url)
    assert st.model("clf/2").lineage()["parent"] == {"name": "clf", "version": 1}
    with pytest.raises(store.ModelNotFoundError, match="model 'nope' has no alias 'champion'"):
        store.Run("train", root=s3_url, capture_system=False, parent_model="nope@champion")


def test_dataset_versions_through_an_opened_s3_store(
    s3_url: str, mirror_home: Path, tmp_path: Path
) -> None:
    with store.Run("train", root=s3_url, capture_system=False) as run:
        run.log({"loss": 1.0}, step=0)
    st = store.open(s3_url)
    frame = pl.DataFrame({"id": [1, 2, 3], "x": [0.5, 1.5, 2.5]})
    one = st.log_dataset_version("train", frame, key="id", snapshot=True)
    assert (one.name, one.version) == ("train", 1)
    assert st.log_dataset_version("train", frame).version == 1  # same content, same version
    two = st.log_dataset_version("train", frame.head(2), parent="train@1")
    assert two.version == 2

    cold = S3Store(s3_url, mirror_cache=tmp_path / "cold")
    got = cold.dataset("train@2")
    assert got.manifest["parent"] == {
        "name": "train",
        "version": 1,
        "fingerprint": one.fingerprint,
    }
    assert got.manifest["rows"] == 2
    assert cold.dataset("train@1").manifest["key"] == ["id"]
    assert cold.dataset("train@1").load().equals(frame)
    import obstore
    from obstore.store import from_url

    stored = [str(m["path"]) for b in obstore.list(from_url(s3_url)) for m in b]
    assert not [k for k in stored if k.endswith(".lock") or ".tmp" in k]
