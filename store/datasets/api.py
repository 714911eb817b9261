"""The dataset half of `store.Store`: list, resolve, register, compare and trace versions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ReadOnlyStoreError
from ..records import Problem
from . import layout
from .catalog import DatasetCatalog
from .version import DatasetVersion

if TYPE_CHECKING:
    import polars as pl

    from ..registry.catalog import Catalog
    from ..runinfo import RunInfo


class DatasetRegistry:
    """Mixed into `store.Store`: needs `root`, `read_only`, `runs`, `run` and `_catalog`."""

    root: Path
    _datasets_obj: DatasetCatalog | None = None

    @property
    def read_only(self) -> bool:
        raise NotImplementedError

    @property
    def _catalog(self) -> Catalog:
        raise NotImplementedError

    def runs(self, where: str | None = None) -> pl.DataFrame:
        raise NotImplementedError

    def run(self, ref: str) -> RunInfo:
        raise NotImplementedError

    @property
    def _datasets(self) -> DatasetCatalog:
        if self._datasets_obj is None:
            self._datasets_obj = DatasetCatalog(self.root)
        return self._datasets_obj

    # ----------------------------------------------------------------- reading
    def datasets(self, name: str | None = None) -> pl.DataFrame:
        """One row per committed version: name, version, fingerprint, kind, rows, columns,
        size, uri, created, labels, parent, run_id, snapshot, description, user, host."""
        from .frame import datasets_frame

        if name is not None:
            layout.check_dataset_name(name)
        found = [v for v in self._datasets.all_versions() if name is None or v.name == name]
        return datasets_frame(found)

    def dataset(self, ref: str) -> DatasetVersion:
        """`name` (newest), `name@3` (or `name/3`), or a unique fingerprint prefix."""
        return self._datasets.resolve(ref)

    def dataset_problems(self) -> list[Problem]:
        return self._datasets.problems if self._datasets_obj is not None else []

    def dataset_diff(
        self, a: str, b: str, key: Sequence[str] | str | None = None
    ) -> dict[str, Any]:
        """Schema, rows and (with key columns in both) rows added, removed and changed."""
        from .diff import diff

        keys = [key] if isinstance(key, str) else (list(key) if key else None)
        return diff(self.dataset(a), self.dataset(b), keys)

    def dataset_lineage(self, ref: str) -> dict[str, Any]:
        """Where a version came from (labels, parent, registering run) and who used it
        (runs, model versions, versions derived from it)."""
        from .lineage import derived_from, models_using, runs_using

        v = self.dataset(ref)
        manifests = [
            (name, n, self._catalog.manifest(name, n))
            for name, numbers, _, _ in self._catalog.scan()
            for n in numbers
        ]
        run = v.manifest.get("run")
        return {
            "ref": v.ref,
            "fingerprint": v.fingerprint,
            "labels": v.related("labels"),
            "parent": v.related("parent"),
            "registered_by": run if isinstance(run, dict) else None,
            "derived": derived_from(v, self._datasets.all_versions()),
            "runs": runs_using(self.runs(), v.fingerprint),
            "models": models_using(manifests, v.fingerprint),
        }

    def inputs_of(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Datasets entries of a run or a model's lineage, each with `ref`: the version it
        names, else the version of its fingerprint (one per name), else None."""
        out = []
        for entry in entries:
            ref = _named(entry)
            fingerprint = str(entry.get("fingerprint") or "")
            if ref is None and fingerprint:
                hits = self._datasets.with_fingerprint(fingerprint)
                ref = hits[0].ref if hits else None
            out.append({**entry, "ref": ref})
        return out

    def run_datasets(self, ref: str) -> list[dict[str, Any]]:
        """The datasets a run used, with the version of each (`ref`, None when unregistered)."""
        return self.inputs_of(self.run(ref).inputs)

    # ----------------------------------------------------------------- writing
    def log_dataset_version(
        self,
        name: str,
        source: Any,
        *,
        uri: str | None = None,
        key: str | Sequence[str] | None = None,
        labels: str | None = None,
        parent: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        snapshot: bool = False,
    ) -> DatasetVersion:
        """Register a frame, array, file or folder as a version of `name` (or return the
        version that already holds the same content). `labels`/`parent`: refs of the label
        set it uses and the version it was derived from. `snapshot`: keep a Parquet copy."""
        from .register import register

        if self.read_only:
            raise ReadOnlyStoreError(f"the store at {self.root} is read-only")
        number, _ = register(
            self.root,
            name,
            source,
            uri=uri,
            key=key,
            labels=self.pin(labels),
            parent=self.pin(parent),
            description=description,
            tags=tags,
            snapshot=snapshot,
        )
        return self._datasets.version(name, number)

    def pin(self, ref: str | None) -> dict[str, Any] | None:
        """{name, version, fingerprint} of the version `ref` names now."""
        if ref is None:
            return None
        v = self.dataset(ref)
        return {"name": v.name, "version": v.version, "fingerprint": v.fingerprint}


def _named(entry: dict[str, Any]) -> str | None:
    found = entry.get("dataset")
    if isinstance(found, dict) and found.get("name") and isinstance(found.get("version"), int):
        return f"{found['name']}@{found['version']}"
    return None
