"""Serializers, one module per kind of model, each importing its framework only when used.

A serializer module has `FLAVOUR`, `matches(obj) -> bool`, `save(obj, folder, options) -> dict`
(what the manifest records: serializer, frameworks, packages, load info),
`load(folder, info, trust) -> model` and `predict(model, example) -> output or None`.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

# Tried in this order; `files` takes paths, `pickled` only what nothing else takes.
_MODULES = {
    "sklearn": "sklearn",
    "pytorch": "torch",
    "keras": "keras",
    "files": "files",
    "onnx": "files",
}
PICKLE = "pickle"


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def choose(obj: Any, allow_pickle: bool) -> ModuleType:
    """The serializer for `obj`: chosen by its type, never by trying."""
    for name in ("files", "sklearn", "keras", "torch"):
        module = _module(name)
        if module.matches(obj):
            return module
    if allow_pickle:
        return _module("pickled")
    raise TypeError(
        f"no pickle-free serializer for {type(obj).__module__}.{type(obj).__qualname__}: "
        "register a scikit-learn estimator, a keras.Model, a torch.nn.Module, or a path to a "
        "saved file or folder (ONNX, ...); pass allow_pickle=True only if pickle is acceptable"
    )


def for_flavour(flavour: str) -> ModuleType:
    if flavour == PICKLE:
        return _module("pickled")
    name = _MODULES.get(flavour)
    if name is None:
        raise ValueError(f"unknown model flavour {flavour!r} (a newer mmtop wrote it?)")
    return _module(name)


def mro_modules(obj: Any) -> set[str]:
    """Top-level package names of every class `obj` is an instance of (no imports needed)."""
    return {str(cls.__module__).split(".")[0] for cls in type(obj).__mro__}
