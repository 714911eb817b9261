"""The model registry under `<root>/_models/`: immutable versions, write-once events.

See docs/FORMAT.md ("Model registry"). Framework packages (scikit-learn, skops, torch,
safetensors) are imported only by the serializer that needs them, when it runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from .errors import (
    ModelIntegrityError,
    ModelNotFoundError,
    ModelPointerError,
    UntrustedModelError,
)
from .model_version import ModelVersion
from .verify import VerifyReport


def load_model(
    ref: str,
    root: str | os.PathLike[str] | None = None,
    trusted: Iterable[str] | None = None,
    allow_pickle: bool = False,
    model: Any = None,
) -> Any:
    """Load `name@alias`, `name/3` or `name` from the store at `root`, files verified first."""
    from ..reader import open as open_store

    return open_store(root).model(ref).load(trusted=trusted, allow_pickle=allow_pickle, model=model)


__all__ = [
    "ModelIntegrityError",
    "ModelNotFoundError",
    "ModelPointerError",
    "ModelVersion",
    "UntrustedModelError",
    "VerifyReport",
    "load_model",
]
