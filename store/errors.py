"""Error types of the store's public API."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, white space folded: errors stay one line
    (polars messages can run to many lines)."""
    lines = str(exc).strip().splitlines()
    return " ".join(lines[0].split()) if lines else type(exc).__name__


class StoreError(Exception):
    """Base class for errors raised by the store."""


class QueryError(StoreError, ValueError):
    """A `where` expression that polars could not parse or evaluate."""


class SchemaVersionError(StoreError):
    """A file written by a newer (or unknown) version of the format."""


class RunNotFoundError(StoreError, KeyError):
    """No run matches the given id, prefix or experiment/name."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it one plain line
        return str(self.args[0]) if self.args else "run not found"


class AmbiguousRunError(StoreError, KeyError):
    """Several runs match a prefix; `candidates` lists them."""

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates

    def __str__(self) -> str:
        return str(self.args[0])


class CorruptPartError(StoreError):
    """A Parquet part that is damaged: checksums that do not match, bytes that do not parse."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


class ReadOnlyStoreError(StoreError, PermissionError):
    """A write was attempted on a store that cannot be written."""


class StoreWriteError(StoreError, OSError):
    """Points (or a run's status) that could not be written, a full disk say; one line."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno

    def __str__(self) -> str:
        return str(self.args[0])
