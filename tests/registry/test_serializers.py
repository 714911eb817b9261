"""Serializers without pickle: skops trust, safetensors + class path, files, opt-in pickle."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mmtop import store


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A real importable module of the user's own classes (skops and torch import by path)."""
    name = f"mm_user_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            """
            from sklearn.base import BaseEstimator, TransformerMixin

            class Doubler(TransformerMixin, BaseEstimator):
                def fit(self, X, y=None):
                    return self

                def transform(self, X):
                    return X * 2

            try:
                import torch

                class MLP(torch.nn.Module):
                    def __init__(self, width=16):
                        super().__init__()
                        self.a = torch.nn.Linear(64, width)
                        self.b = torch.nn.Linear(width, 10)

                    def forward(self, x):
                        return self.b(torch.relu(self.a(x)))
            except ImportError:
                pass
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__(name)
    yield sys.modules[name]
    sys.modules.pop(name, None)


def _log(root: Path, model: Any, name: str = "m", **kw: Any) -> Any:
    with store.Run("e", root=root, capture_system=False, capture_code=False) as run:
        return run.log_model(model, name, **kw)


def test_untrusted_type_is_refused_and_named_until_the_caller_trusts_it(
    root: Path, digits: Any, user_module: Any
) -> None:
    from sklearn.linear_model import RidgeClassifier
    from sklearn.pipeline import make_pipeline

    X, y = digits
    model = make_pipeline(user_module.Doubler(), RidgeClassifier()).fit(X, y)
    v = _log(root, model)
    kind = f"{user_module.__name__}.Doubler"
    with pytest.raises(store.UntrustedModelError, match=f"outside skops' safe set: {kind};"):
        store.load_model("m", root=root)
    # A trust list planted in the manifest is never used.
    manifest = json.loads((v.path / "manifest.json").read_text())
    manifest["load"]["trusted"] = [kind]
    manifest["trusted"] = [kind]
    (v.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(store.UntrustedModelError, match=kind):
        store.open(root).model("m").load(check=False)
    with pytest.raises(store.UntrustedModelError, match=kind):
        store.load_model("m", root=root, trusted=["some.other.Type"])
    loaded = store.open(root).model("m").load(trusted=[kind], check=False)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_pickle_needs_allow_pickle_to_save_and_again_to_load(root: Path) -> None:
    from collections import OrderedDict

    weights = OrderedDict(w=[1.5, 2.5])
    with pytest.raises(TypeError, match="allow_pickle=True"):
        _log(root, weights)
    v = _log(root, weights, allow_pickle=True)
    assert v.flavour == "pickle"
    with pytest.raises(store.UntrustedModelError, match="pickle, which runs code"):
        store.load_model("m", root=root)
    assert store.load_model("m", root=root, allow_pickle=True) == weights


def test_files_and_folders_are_kept_as_they_are(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"a": 1}')
    (folder / "sub" / "weights.bin").write_bytes(bytes(range(256)))
    v = _log(root, folder, "hf")
    assert v.flavour == "files"
    assert [f["path"] for f in v.files] == [
        "model/saved/config.json",
        "model/saved/sub/weights.bin",
    ]
    loaded = store.load_model("hf", root=root)
    assert (loaded / "sub" / "weights.bin").read_bytes() == bytes(range(256))
    (tmp_path / "m.onnx").write_bytes(b"onnx")
    assert _log(root, str(tmp_path / "m.onnx"), "o").flavour == "onnx"
    assert store.open(root).model("o").manifest["requirements"][:1] == ["onnx"]


def test_torch_module_round_trips_through_safetensors(root: Path, user_module: Any) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = user_module.MLP(width=8).eval()
    x = torch.randn(5, 64)
    v = _log(root, net, "net", input_example=x.numpy(), init_kwargs={"width": 8})
    assert v.flavour == "pytorch"
    assert [f["path"] for f in v.files] == ["model/model.safetensors", "input_example.parquet"]
    assert v.manifest["signature"]["outputs"] == {
        "kind": "tensor",
        "dtype": "float32",
        "shape": [-1, 10],
    }
    path = f"{user_module.__name__}:MLP"
    assert v.manifest["load"]["class"] == path
    with pytest.raises(store.UntrustedModelError, match=f"trusted=\\['{path}'\\]"):
        store.load_model("net", root=root)
    loaded = store.load_model("net", root=root, trusted=[path])
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)
    into = store.load_model("net", root=root, model=user_module.MLP(width=8))
    torch.testing.assert_close(into(x), net(x), rtol=0, atol=0)
