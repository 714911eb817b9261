"""What every integration needs: framework values made plain JSON and plain floats."""

from __future__ import annotations

import dataclasses
import enum
import os
from argparse import Namespace
from collections.abc import Callable, Mapping
from typing import Any

from ..names import MAX_PARAM_DEPTH

_SCALARS = (bool, int, float, str)


def built_on_first_use(module: str, attr: str, build: Callable[[], type]) -> Callable[[str], Any]:
    """A module `__getattr__` that builds `attr` once, on first access: importing the module
    then does not import the framework the class subclasses."""
    built: list[type] = []

    def __getattr__(name: str) -> Any:
        if name != attr:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        if not built:
            built.append(build())
        return built[0]

    return __getattr__


def plain_params(params: Any) -> dict[str, Any]:
    """Hyperparameters (a dict, argparse.Namespace, dataclass or config object) as nested JSON.

    Nesting is kept: mmtop shows and filters nested params as `a.b.c`. Namespaces,
    dataclasses and mappings (OmegaConf's DictConfig too) become objects; tensors and numpy
    values become numbers or lists; classes and functions become their qualified names; any
    other object becomes its `repr`-free `str`. Non-string keys become strings.
    """
    value = plain(params, 0)
    if not isinstance(value, dict):
        raise TypeError(
            f"hyperparameters must be a mapping or Namespace, got {type(params).__name__}"
        )
    return value


def plain(value: Any, depth: int = 0) -> Any:
    if depth > MAX_PARAM_DEPTH:
        return str(value)
    if value is None or isinstance(value, _SCALARS):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value, depth)
    if isinstance(value, Namespace):
        value = vars(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [plain(v, depth + 1) for v in items]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, type) or callable(value):
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None) or type(value).__qualname__
        return f"{module}.{qualname}" if module else qualname
    tolist = getattr(value, "tolist", None)  # numpy and torch values, 0-d ones as scalars
    if callable(tolist):
        try:
            return plain(tolist(), depth)
        except (TypeError, ValueError, RuntimeError):
            pass
    return str(value)


def scalars(values: Mapping[str, Any]) -> dict[str, float]:
    """The entries of `values` that are one number (ints, floats, numpy or 0-d/1-element
    tensors), as floats; text, None and arrays are left out, as the frameworks' own MLflow
    loggers leave them out."""
    out: dict[str, float] = {}
    for key, value in values.items():
        kind = type(value)
        # Lightning and Keras hand over Python floats: the common case stays cheap.
        number = float(value) if kind is float or kind is int else scalar(value)
        if number is not None:
            out[key if type(key) is str else str(key)] = number
    return out


def scalar(value: Any) -> float | None:
    if isinstance(value, str | bytes) or value is None:
        return None
    if isinstance(value, bool | int | float):
        return float(value)
    numel = getattr(value, "numel", None)
    size = numel() if callable(numel) else getattr(value, "size", None)
    if size is not None and size != 1:
        return None
    try:
        number = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError, RuntimeError):
        return None
    return number  # NaN and inf are data, as for run.log
