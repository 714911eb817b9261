"""PyTorch modules as a safetensors state dict plus the import path of their class.

The weights load without pickle. Building the module means importing its class, which runs
that module's code: so the caller either passes an instance to load into (`model=`) or names
the class in `trusted=["package.module:Class"]`; the path stored in the manifest alone is
never imported.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from ..errors import UntrustedModelError
from . import mro_modules
from .trust import Trust

FLAVOUR = "pytorch"
FILE = "model.safetensors"
PACKAGES = ["torch", "safetensors", "numpy"]


def matches(obj: Any) -> bool:
    if "torch" not in mro_modules(obj):
        return False
    import torch

    return isinstance(obj, torch.nn.Module)


def save(obj: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    import safetensors
    import safetensors.torch
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_model(obj, str(folder / FILE))
    cls = type(obj)
    return {
        "flavour": FLAVOUR,
        "serializer": {"name": "safetensors", "version": safetensors.__version__},
        "frameworks": {"torch": torch.__version__.split("+")[0]},
        "packages": PACKAGES,
        "load": {
            "file": FILE,
            "class": f"{cls.__module__}:{cls.__qualname__}",
            "init_kwargs": dict(options.get("init_kwargs") or {}),
        },
    }


def load(folder: Path, info: dict[str, Any], trust: Trust) -> Any:
    import safetensors.torch
    import torch

    model = trust.model
    if model is None:
        path = str(info.get("class", ""))
        if path not in trust.trusted:
            raise UntrustedModelError(
                f"building this model imports {path!r}; pass model=<an instance> to load the "
                f"weights into, or trusted=[{path!r}] if you trust that class"
            )
        module_name, _, qualname = path.partition(":")
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        if not (isinstance(target, type) and issubclass(target, torch.nn.Module)):
            raise UntrustedModelError(f"{path!r} is not a torch.nn.Module class")
        model = target(**dict(info.get("init_kwargs") or {}))
    safetensors.torch.load_model(model, str(folder / FILE), strict=True)
    model.eval()
    return model


def predict(model: Any, example: Any) -> Any:
    import numpy as np
    import torch

    tensor = example if isinstance(example, torch.Tensor) else torch.as_tensor(np.asarray(example))
    weights = next(iter(model.parameters()), None)
    if weights is not None and tensor.is_floating_point():
        tensor = tensor.to(weights.dtype)  # float64 examples for float32 weights
    with torch.no_grad():
        return model(tensor)
