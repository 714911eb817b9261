"""Errors of the model registry."""

from __future__ import annotations

from ..errors import StoreError


class ModelNotFoundError(StoreError, KeyError):
    """No model, version or alias matches a reference."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it one plain line
        return str(self.args[0]) if self.args else "model not found"


class UntrustedModelError(StoreError):
    """Loading would need types, classes or pickle the caller did not trust."""


class ModelIntegrityError(StoreError):
    """A version's files no longer match the hashes in its manifest."""


class ModelPointerError(StoreError):
    """The version is a pointer (imported from another registry): its files are elsewhere."""
