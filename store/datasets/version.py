"""`DatasetVersion`: one committed version of a dataset, its manifest and its data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fsio import read_json
from ..registry.verify import verify
from . import layout
from .errors import DatasetUnavailableError

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True, eq=False)
class DatasetVersion:
    name: str
    version: int
    path: Path
    manifest: dict[str, Any] = field(repr=False)

    def __repr__(self) -> str:
        return f"DatasetVersion(name={self.name!r}, version={self.version})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatasetVersion):
            return NotImplemented
        return self.path == other.path

    def __hash__(self) -> int:
        return hash(str(self.path))

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def fingerprint(self) -> str:
        return str(self.manifest.get("fingerprint") or "")

    @property
    def kind(self) -> str:
        return str(self.manifest.get("kind") or "")

    @property
    def rows(self) -> int | None:
        rows = self.manifest.get("rows")
        return rows if isinstance(rows, int) else None

    @property
    def uri(self) -> str | None:
        uri = self.manifest.get("uri")
        return str(uri) if uri else None

    @property
    def schema(self) -> dict[str, str]:
        """Column -> Arrow type, in column order."""
        cols = self.manifest.get("schema")
        if not isinstance(cols, list):
            return {}
        return {str(c.get("name")): str(c.get("type")) for c in cols if isinstance(c, dict)}

    @property
    def key(self) -> list[str]:
        key = self.manifest.get("key")
        return [str(k) for k in key] if isinstance(key, list) else []

    @property
    def created(self) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(str(self.manifest.get("created")))
        except ValueError:
            return None

    def related(self, field_name: str) -> str | None:
        """`labels` or `parent` as a ref (`name@n`), when the version records one."""
        found = self.manifest.get(field_name)
        if isinstance(found, dict) and found.get("name") and isinstance(found.get("version"), int):
            return f"{found['name']}@{found['version']}"
        return None

    def profile(self) -> dict[str, Any] | None:
        """Per-column statistics recorded at registration, or None."""
        name = self.manifest.get("profile")
        if not name:
            return None
        try:
            found = read_json(self.path / layout.PROFILE)
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def load(self) -> pl.DataFrame:
        """The data: the snapshot (checked against its sha256), else the uri, when the data
        there still has this version's fingerprint."""
        from . import sources

        stored = [f for f in self.manifest.get("stored") or [] if isinstance(f, dict)]
        if self.manifest.get("snapshot") and stored:
            report = verify(self.path, stored)
            if not report.ok:
                raise DatasetUnavailableError(f"{self.ref}: snapshot changed: {report}")
            return _frame(sources.read_table(self.path / layout.SNAPSHOT))
        uri = self.uri
        if not uri or not Path(uri).exists():
            raise DatasetUnavailableError(
                f"{self.ref}: no snapshot, and its uri {uri!r} is not a readable path here"
            )
        path = Path(uri)
        if self.kind in ("file", "folder"):
            now = sources.describe(path)["fingerprint"]
            if now != self.fingerprint:
                raise DatasetUnavailableError(f"{self.ref}: the data at {uri} has changed since")
            return _frame(sources.read_table(path))
        from .fingerprint import PREFIX, hash_table

        table = sources.read_table(path)
        if PREFIX + hash_table(table) != self.fingerprint:
            raise DatasetUnavailableError(
                f"{self.ref}: the data at {uri} is not the frame that was registered"
            )
        return _frame(table)


def _frame(table: Any) -> pl.DataFrame:
    import polars as pl

    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)  # a Table, never an Array, comes in
    return frame
