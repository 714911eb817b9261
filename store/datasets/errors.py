"""Errors of the dataset registry."""

from __future__ import annotations

from ..errors import StoreError


class DatasetNotFoundError(StoreError, KeyError):
    """No dataset or version matches a reference."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it one plain line
        return str(self.args[0]) if self.args else "dataset not found"


class AmbiguousDatasetError(DatasetNotFoundError):
    """A fingerprint prefix that several versions share; `candidates` lists them."""

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


class DatasetUnavailableError(StoreError):
    """A version's data cannot be read: no snapshot, and its uri is gone or has changed."""
