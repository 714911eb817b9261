"""Registering, resolving, loading and verifying versions of a scikit-learn model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mmtop import store


def _train_and_log(root: Path, pipeline: Any, digits: Any, opts: dict[str, Any], **kw: Any) -> Any:
    X, y = digits
    with store.Run("digits", name="lr", params={"lr": 0.01, "C": 1.0}, root=root, **opts) as run:
        run.log({"val/acc": 0.97}, step=3)
        run.log_dataset({"x0": X[:, 0], "y": y}, "digits-train")
        version = run.log_model(pipeline, "digits-clf", input_example=X[:5], **kw)
    return run, version


def test_log_model_round_trip_gives_identical_predictions(
    root: Path, pipeline: Any, digits: Any, run_options: dict[str, Any]
) -> None:
    X, _ = digits
    run, v = _train_and_log(root, pipeline, digits, run_options, aliases=["candidate"])
    assert (v.name, v.version, v.aliases) == ("digits-clf", 1, ("candidate",))
    assert repr(v) == "ModelVersion(name='digits-clf', version=1)"
    loaded = store.load_model("digits-clf@candidate", root=root)
    assert type(loaded).__name__ == "Pipeline"
    np.testing.assert_array_equal(loaded.predict(X), pipeline.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), pipeline.predict_proba(X))


def test_manifest_records_files_signature_requirements_and_lineage(
    root: Path, pipeline: Any, digits: Any, run_options: dict[str, Any]
) -> None:
    run, v = _train_and_log(root, pipeline, digits, run_options, description="LR on digits")
    m = json.loads((v.path / "manifest.json").read_text())
    assert m["format"] == "mmtop-model" and m["schema_version"] == 1
    assert (m["name"], m["version"], m["flavour"]) == ("digits-clf", 1, "sklearn")
    assert m["serializer"]["name"] == "skops"
    assert [f["path"] for f in m["files"]] == ["model/model.skops", "input_example.parquet"]
    for f in m["files"]:
        assert len(f["sha256"]) == 64 and (v.path / f["path"]).stat().st_size == f["size"]
    assert m["signature"]["inputs"] == {"kind": "tensor", "dtype": "float64", "shape": [-1, 64]}
    assert m["signature"]["outputs"]["shape"] == [-1]
    assert {r.split("==")[0] for r in m["requirements"]} == {
        "scikit-learn",
        "skops",
        "numpy",
        "scipy",
    }
    assert all("==" in r for r in m["requirements"])
    lin = v.lineage()
    assert lin["run_id"] == run.run_id and lin["experiment"] == "digits"
    assert lin["params"] == {"lr": 0.01, "C": 1.0}
    assert lin["metrics"] == {"val/acc": 0.97}
    assert [d["name"] for d in lin["datasets"]] == ["digits-train"]
    assert lin["datasets"][0]["fingerprint"].startswith("sha256:")
    assert lin["datasets"][0]["dataset"] == {"name": "digits-train", "version": 1}
    assert lin["parent"] is None and lin["children"] == []
    np.testing.assert_array_equal(v.input_example(), digits[0][:5])
    assert v.description == "LR on digits"


def test_refs_resolve_latest_number_and_alias(
    root: Path, pipeline: Any, digits: Any, run_options: dict[str, Any]
) -> None:
    for _ in range(3):
        _train_and_log(root, pipeline, digits, run_options)
    s = store.open(root)
    s.set_alias("digits-clf", "champion", 2)
    assert s.model("digits-clf").version == 3
    assert s.model("digits-clf@latest").version == 3
    assert s.model("digits-clf/1").version == 1
    assert s.model("digits-clf@champion").version == 2
    assert s.model("digits-clf@champion").aliases == ("champion",)
    with pytest.raises(store.ModelNotFoundError, match="no alias 'prod'"):
        s.model("digits-clf@prod")
    with pytest.raises(store.ModelNotFoundError, match="no version 9"):
        s.model("digits-clf/9")
    with pytest.raises(store.ModelNotFoundError, match="no model named 'other'"):
        s.model("other")
    with pytest.raises(ValueError, match="version must be a number"):
        s.model("digits-clf/x")
    with pytest.raises(store.ModelNotFoundError, match="no version 7"):
        s.set_alias("digits-clf", "champion", 7)


def test_models_frame_lists_every_version_with_aliases_and_metrics(
    root: Path, pipeline: Any, digits: Any, run_options: dict[str, Any]
) -> None:
    _train_and_log(root, pipeline, digits, run_options, aliases=["candidate"])
    _train_and_log(root, pipeline, digits, run_options)
    s = store.open(root)
    assert s.models()["aliases"].to_list() == [["candidate"], []]
    s.set_alias("digits-clf", "champion", 1)  # the same store object sees the move
    df = s.models()
    assert df.select("name", "version", "aliases", "flavour").rows() == [
        ("digits-clf", 1, ["candidate", "champion"], "sklearn"),
        ("digits-clf", 2, [], "sklearn"),
    ]
    assert df["metrics"].struct.field("val/acc").to_list() == [0.97, 0.97]
    assert df.schema["created"] == pl.Datetime("us", "UTC")
    assert df["experiment"].to_list() == ["digits", "digits"]
    assert s.models("other").height == 0


def test_bad_names_and_objects_are_refused_before_anything_is_written(
    root: Path, run_options: dict[str, Any]
) -> None:
    with store.Run("digits", root=root, **run_options) as run:
        for bad in ("", "a/b", "a@b", "../x", ".hidden", "x" * 129, "m\n"):
            with pytest.raises(ValueError, match="model name"):
                run.log_model(Path("x"), bad)
        with pytest.raises(ValueError, match="alias"):
            run.log_model(Path("x"), "ok", aliases=["9lives"])
        with pytest.raises(ValueError, match="alias"):
            run.log_model(Path("x"), "ok", aliases=["prod\n"])
        with pytest.raises(ValueError, match="reserved"):
            run.log_model(Path("x"), "ok", aliases=["latest"])
        with pytest.raises(TypeError, match="no pickle-free serializer for builtins.dict"):
            run.log_model({"weights": [1, 2]}, "ok")
    assert not (root / "_models").exists()


def test_tampered_file_fails_verify_and_load(
    root: Path, pipeline: Any, digits: Any, run_options: dict[str, Any]
) -> None:
    _, v = _train_and_log(root, pipeline, digits, run_options)
    assert v.verify().ok and v.verify().checked == 2
    model_file = v.path / "model" / "model.skops"
    data = bytearray(model_file.read_bytes())
    data[100] ^= 0xFF
    model_file.write_bytes(bytes(data))
    report = store.open(root).model("digits-clf").verify()
    assert not report.ok and report.mismatched == ["model/model.skops"]
    with pytest.raises(store.ModelIntegrityError, match="model/model.skops"):
        store.load_model("digits-clf", root=root)
    (v.path / "input_example.parquet").unlink()
    assert store.open(root).model("digits-clf").verify().missing == ["input_example.parquet"]


def test_manifest_paths_cannot_reach_outside_the_version(
    root: Path, tmp_path: Path, run_options: dict[str, Any]
) -> None:
    (tmp_path / "w.bin").write_bytes(b"weights")
    with store.Run("digits", root=root, **run_options) as run:
        v = run.log_model(tmp_path / "w.bin", "opaque")
    manifest = json.loads((v.path / "manifest.json").read_text())
    manifest["files"].append({"path": "../../../../mmtop-store.json", "size": 1, "sha256": "0"})
    (v.path / "manifest.json").write_text(json.dumps(manifest))
    assert store.open(root).model("opaque").verify().missing == ["../../../../mmtop-store.json"]


def test_register_after_the_fact_from_a_run_artifact(
    root: Path, tmp_path: Path, run_options: dict[str, Any]
) -> None:
    weights = tmp_path / "net.onnx"
    weights.write_bytes(b"\x08\x07onnx-bytes")
    with store.Run("vision", root=root, params={"depth": 4}, **run_options) as run:
        run.log({"val/acc": 0.5})
        run.log_artifact(weights)
    weights.unlink()
    s = store.open(root)
    v = s.register_model("resnet", run=run.run_id, path="net.onnx", aliases=["staging"])
    assert (v.version, v.flavour, v.aliases) == (1, "onnx", ("staging",))
    assert v.lineage()["params"] == {"depth": 4}
    loaded = v.load()
    assert loaded == v.path / "model" / "net.onnx"
    assert loaded.read_bytes() == b"\x08\x07onnx-bytes"
    with pytest.raises(FileNotFoundError, match="no file or artifact 'missing.onnx'"):
        s.register_model("resnet", run=run.run_id, path="missing.onnx")
    with pytest.raises(ValueError, match="not both or neither"):
        s.register_model("resnet")
    assert s.models()["version"].to_list() == [1]


def test_retraining_run_records_its_parent_and_the_parent_its_child(
    root: Path, pipeline: Any, digits: Any, run_options: dict[str, Any]
) -> None:
    _train_and_log(root, pipeline, digits, run_options)
    s = store.open(root)
    s.set_alias("digits-clf", "champion", 1)
    with store.Run("digits", root=root, parent_model="digits-clf@champion", **run_options) as run:
        s.set_alias("digits-clf", "champion", 1)  # pinned at start: later moves do not matter
        child = run.log_model(pipeline, "digits-clf")
    assert run.meta["parent_model"] == {"name": "digits-clf", "version": 1}
    assert child.lineage()["parent"] == {"name": "digits-clf", "version": 1}
    s = store.open(root)
    assert s.model("digits-clf/1").lineage()["children"] == ["digits-clf/2"]
    assert s.models()["parent"].to_list() == [None, "digits-clf/1"]
    with pytest.raises(store.ModelNotFoundError):
        store.Run("digits", root=root, parent_model="digits-clf@nope", **run_options)


READ_ONLY = """
import json, sys
from mmtop import store
s = store.open(sys.argv[1])
out = {"versions": s.models()["version"].to_list(), "read_only": s.read_only}
try:
    s.set_alias("m", "prod", 1)
except store.ReadOnlyStoreError as exc:
    out["error"] = str(exc)
print(json.dumps(out))
"""


def test_read_only_store_lists_models_and_refuses_registry_writes(
    unprivileged: Any, run_options: dict[str, Any]
) -> None:
    root = unprivileged.dir / "mmruns"
    (unprivileged.dir / "w.bin").write_bytes(b"w")
    with store.Run("digits", root=root, **run_options) as run:
        run.log_model(unprivileged.dir / "w.bin", "m")
    root.chmod(0o555)
    found = unprivileged.run(READ_ONLY, str(root))
    assert found["versions"] == [1] and found["read_only"] is True
    assert found["error"] == f"the store at {root} is read-only"
    assert not (root / "_models" / "m" / "events" / "00000002.json").exists()
