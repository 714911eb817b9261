"""Pickle, only when both the saver and the loader say `allow_pickle=True`.

Unpickling runs code chosen by whoever wrote the file; it is never done by default.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from ..errors import UntrustedModelError
from .trust import Trust

FLAVOUR = "pickle"
FILE = "model.pkl"


def matches(obj: Any) -> bool:
    return False  # never chosen by type: only as the explicit last resort


def save(obj: Any, folder: Path, options: dict[str, Any]) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / FILE, "wb") as f:
        pickle.dump(obj, f, protocol=5)
    return {
        "flavour": FLAVOUR,
        "serializer": {"name": "pickle", "version": "protocol 5"},
        "frameworks": {},
        "packages": [],
        "load": {"file": FILE, "class": f"{type(obj).__module__}.{type(obj).__qualname__}"},
    }


def load(folder: Path, info: dict[str, Any], trust: Trust) -> Any:
    if not trust.allow_pickle:
        raise UntrustedModelError(
            f"{folder / FILE} is a pickle, which runs code when loaded; pass "
            "allow_pickle=True only if you trust where this model came from"
        )
    with open(folder / FILE, "rb") as f:
        return pickle.load(f)  # noqa: S301 - the caller passed allow_pickle=True


def predict(model: Any, example: Any) -> Any:
    return model.predict(example) if hasattr(model, "predict") else None
