"""Files and folders kept as they are: ONNX models, or any saved model as an opaque package.

Loading gives back the stored path; nothing in it is imported or executed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from .trust import Trust

FLAVOUR = "files"


def matches(obj: Any) -> bool:
    return isinstance(obj, str | os.PathLike)


def save(obj: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    source = Path(obj)
    if not source.exists():
        raise FileNotFoundError(f"model path does not exist: {source}")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    if source.is_dir():
        shutil.copytree(source, target, symlinks=False)
    else:
        shutil.copyfile(source, target)
    onnx = source.suffix == ".onnx"
    return {
        "flavour": "onnx" if onnx else FLAVOUR,
        "serializer": {"name": "copy", "version": "1"},
        "frameworks": {},
        "packages": ["onnx", "onnxruntime"] if onnx else [],
        "load": {"path": source.name, "kind": "folder" if source.is_dir() else "file"},
    }


def load(folder: Path, info: dict[str, Any], trust: Trust) -> Any:
    name = str(info.get("path", ""))
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"bad stored model path {name!r}")
    return folder / name


def predict(model: Any, example: Any) -> Any:
    return None
