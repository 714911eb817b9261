"""What a caller trusts when loading: passed by the caller, never read from a stored file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Trust:
    trusted: frozenset[str] = frozenset()
    allow_pickle: bool = False
    model: Any = None  # an instance to load weights into (PyTorch)

    @classmethod
    def of(cls, trusted: Iterable[str] | None, allow_pickle: bool, model: Any = None) -> Trust:
        if isinstance(trusted, str):
            trusted = [trusted]
        return cls(frozenset(str(t) for t in trusted or ()), bool(allow_pickle), model)
