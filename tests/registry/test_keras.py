"""Keras 3 on the torch backend: `.keras` files, loaded only in safe mode."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mmtop import store


@pytest.fixture(scope="module")
def keras(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Keras picks its backend once, when first imported.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_BACKEND", "torch")
        mp.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras-home")))
        pytest.importorskip("torch")
        module = pytest.importorskip("keras")
    if module.backend.backend() != "torch":
        pytest.skip("keras was already imported with another backend")
    return module


def _log(root: Path, model: Any, name: str, **kw: Any) -> Any:
    with store.Run("e", root=root, capture_system=False, capture_code=False) as run:
        return run.log_model(model, name, **kw)


def _tiny(keras: Any, *extra: Any) -> Any:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), *extra, keras.layers.Dense(3)]
    )


def test_sequential_round_trips_with_identical_predictions(
    root: Path, keras: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _tiny(keras)
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    v = _log(root, model, "k", input_example=x)
    assert v.flavour == "keras"
    assert [f["path"] for f in v.files] == ["model/model.keras", "input_example.parquet"]
    assert v.manifest["frameworks"] == {"keras": keras.__version__, "backend": "torch"}
    assert v.manifest["signature"]["outputs"] == {
        "kind": "tensor",
        "dtype": "float32",
        "shape": [-1, 3],
    }
    loaded = store.load_model("k", root=root)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    from mmtop.tui.cli import main

    assert main(["models", "export", "k", "-o", str(tmp_path / "out"), "--root", str(root)]) == 0
    card = (tmp_path / "out" / "README.md").read_text()
    assert 'keras.saving.load_model("model/model.keras", safe_mode=True)' in card


def test_lambda_layer_is_refused_in_safe_mode_whatever_the_file_says(
    root: Path, keras: Any
) -> None:
    model = _tiny(keras, keras.layers.Lambda(lambda t: t * 2))
    v = _log(root, model, "lam")
    with pytest.raises(store.UntrustedModelError, match="Keras' safe mode refuses"):
        store.load_model("lam", root=root)
    # A manifest that claims trust or asks for unsafe loading changes nothing.
    manifest = json.loads((v.path / "manifest.json").read_text())
    manifest["load"].update(safe_mode=False, trusted=["*"])
    (v.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(store.UntrustedModelError, match="safe mode refuses"):
        store.open(root).model("lam").load(trusted=["keras.layers.Lambda"], check=False)


def test_a_file_that_is_not_a_keras_archive_is_refused_before_keras_reads_it(
    root: Path, keras: Any
) -> None:
    v = _log(root, _tiny(keras), "h5")
    target = v.path / "model" / "model.keras"
    assert zipfile.is_zipfile(target)
    target.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    with pytest.raises(store.UntrustedModelError, match="not a .keras archive"):
        store.open(root).model("h5").load(check=False)
