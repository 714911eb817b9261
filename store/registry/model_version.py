"""`ModelVersion`: one committed version of a model, its manifest, lineage and files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import layout
from .errors import ModelIntegrityError, ModelPointerError
from .verify import VerifyReport, verify

if TYPE_CHECKING:
    from .catalog import Catalog


POINTER = "pointer"


def pointer_message(ref: str, version_dir: Path, pointer: dict[str, Any]) -> str:
    """One line: why a pointer version cannot be loaded, and where its files are."""
    where = f"{ref} is a pointer to files outside this store, at {pointer.get('uri')}"
    local = pointer.get("local")
    if isinstance(local, str) and local:
        # The manifest holds it relative to the store root: <root>/_models/<name>/versions/<n>.
        root = version_dir.parent.parent.parent.parent
        return f"{where}; a copy came with its run: {root / local}"
    return where


@dataclass(frozen=True, eq=False)
class ModelVersion:
    name: str
    version: int
    path: Path
    manifest: dict[str, Any] = field(repr=False)
    aliases: tuple[str, ...] = ()
    deployed: tuple[str, ...] = ()  # the targets it serves at
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict, repr=False)
    deprecated: str | None = field(default=None, repr=False)  # the reason, when deprecated
    catalog: Catalog | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"ModelVersion(name={self.name!r}, version={self.version})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelVersion):
            return NotImplemented
        return (self.path, self.version) == (other.path, other.version)

    def __hash__(self) -> int:
        return hash((str(self.path), self.version))

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    @property
    def flavour(self) -> str:
        return str(self.manifest.get("flavour", ""))

    @property
    def created(self) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(str(self.manifest.get("created")))
        except ValueError:
            return None

    @property
    def files(self) -> list[dict[str, Any]]:
        return [f for f in self.manifest.get("files", []) if isinstance(f, dict)]

    @property
    def run_id(self) -> str | None:
        lineage = self.manifest.get("lineage") or {}
        return lineage.get("run_id")

    @property
    def pointer(self) -> dict[str, Any] | None:
        """Where the files of a pointer version live (`uri`, `status`, `local`), else None."""
        found = self.manifest.get("pointer")
        return found if self.flavour == POINTER and isinstance(found, dict) else None

    def lineage(self) -> dict[str, Any]:
        """Run, params, metrics, datasets, code and parent at registration, and child versions."""
        out = dict(self.manifest.get("lineage") or {})
        out["children"] = self.catalog.children(self.name, self.version) if self.catalog else []
        return out

    def baseline(self) -> dict[str, Any] | None:
        """The training baseline stored at registration (docs/FORMAT.md), or None."""
        from ..monitoring.baseline import read

        return read(self.path)

    def verify(self) -> VerifyReport:
        """Check every file the manifest lists against its size and sha256; a pointer has
        none, and its report says where its files are."""
        report = verify(self.path, self.files)
        if self.pointer is not None:
            report.pointer = str(self.pointer.get("uri") or "")
        return report

    def input_example(self) -> Any:
        """The stored input example (numpy array or pyarrow Table), or None."""
        name = self.manifest.get("input_example")
        if not name:
            return None
        from .signature import read_example

        return read_example(self.path / layout.INPUT_EXAMPLE)

    def load(
        self,
        trusted: Iterable[str] | None = None,
        allow_pickle: bool = False,
        model: Any = None,
        check: bool = True,
    ) -> Any:
        """The model, rebuilt by its serializer; files are verified first unless check=False.

        `trusted`: types (scikit-learn via skops) or classes (PyTorch) the caller trusts beyond
        the safe defaults; `allow_pickle`: needed for a pickled version; `model`: a PyTorch
        module to load the weights into.
        """
        from .serializers import for_flavour
        from .serializers.trust import Trust

        if self.pointer is not None:
            raise ModelPointerError(pointer_message(self.ref, self.path, self.pointer))
        if check:
            report = self.verify()
            if not report.ok:
                raise ModelIntegrityError(f"{self.ref}: files do not match the manifest: {report}")
        serializer = for_flavour(self.flavour)
        info = dict(self.manifest.get("load") or {})
        return serializer.load(
            self.path / layout.MODEL_DIR, info, Trust.of(trusted, allow_pickle, model)
        )
