"""Keras 3 models as `.keras` files, always loaded with `safe_mode=True`.

Safe mode refuses what would run code from the file (Lambda layers' bytecode, and any
opt-out of safe mode written into its config). No trust list or flag from the file or the
manifest can turn it off. The stored file must be a `.keras` zip archive: legacy HDF5 files,
which older Keras loaded without safe mode, are refused before Keras sees them.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ..errors import UntrustedModelError
from . import mro_modules
from .trust import Trust

FLAVOUR = "keras"
FILE = "model.keras"
PACKAGES = ["keras", "numpy"]


def matches(obj: Any) -> bool:
    if "keras" not in mro_modules(obj):
        return False
    import keras

    return isinstance(obj, keras.Model)


def save(obj: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    import keras

    folder.mkdir(parents=True, exist_ok=True)
    obj.save(folder / FILE)
    backend = keras.backend.backend()
    return {
        "flavour": FLAVOUR,
        "serializer": {"name": "keras", "version": keras.__version__},
        "frameworks": {"keras": keras.__version__, "backend": backend},
        "packages": [*PACKAGES, _BACKEND_PACKAGES.get(backend, backend)],
        "load": {"file": FILE, "class": f"{type(obj).__module__}.{type(obj).__qualname__}"},
    }


_BACKEND_PACKAGES = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}


def load(folder: Path, info: dict[str, Any], trust: Trust) -> Any:
    target = folder / FILE
    if not zipfile.is_zipfile(target):
        raise UntrustedModelError(f"{target} is not a .keras archive; refusing to load it")
    import keras

    try:
        return keras.saving.load_model(target, compile=False, safe_mode=True)
    except ValueError as exc:
        if "safe_mode" not in str(exc):
            raise
        raise UntrustedModelError(
            f"{target} needs code from the file to load (a Lambda layer or similar), which "
            "Keras' safe mode refuses; rebuild the model without it"
        ) from exc


def predict(model: Any, example: Any) -> Any:
    import numpy as np

    return np.asarray(model.predict(np.asarray(example), verbose=0))
