"""Reading the dataset registry: names, committed versions and their manifests, cached.

Manifests never change once written, so each is parsed once per catalog. What cannot be
read is reported in `problems`, never raised.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..fsio import read_json
from ..records import Problem
from ..registry import versions
from . import layout
from .errors import AmbiguousDatasetError, DatasetNotFoundError
from .version import DatasetVersion


def committed_manifests(root: Path, name: str) -> list[tuple[int, dict[str, Any]]]:
    """(version, manifest) of every committed, readable version of `name`, ascending."""
    out = []
    for number, folder in _numbered(layout.versions_dir(root, name)):
        try:
            doc = read_json(folder / layout.MANIFEST)
        except (OSError, ValueError):
            continue
        if _invalid(doc, name, number) is None:
            out.append((number, doc))
    return out


def _numbered(folder: Path) -> list[tuple[int, Path]]:
    try:
        with os.scandir(folder) as it:
            found = [(layout.version_number(e.name), e.path) for e in it if e.is_dir()]
    except FileNotFoundError:
        return []
    return sorted((n, Path(p)) for n, p in found if n is not None)


class DatasetCatalog:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._manifests: dict[tuple[str, int], dict[str, Any]] = {}
        self._problems: list[Problem] = []

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)

    def names(self) -> list[str]:
        try:
            with os.scandir(layout.registry_dir(self.root)) as it:
                found = [e.name for e in it if e.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return []
        out = []
        for name in sorted(found):
            if layout.is_registry_name(name):
                out.append(name)
            elif not name.startswith("."):
                where = layout.registry_dir(self.root) / name
                self._problems.append(Problem(str(where), "not a valid dataset name"))
        return out

    def scan(self) -> list[tuple[str, list[int]]]:
        """(name, committed versions) of every dataset; refreshes `problems`."""
        self._problems = []
        out = []
        for name in self.names():
            numbers: list[int] = []
            for number, folder in _numbered(layout.versions_dir(self.root, name)):
                if (name, number) in self._manifests:
                    numbers.append(number)
                elif not (folder / layout.MANIFEST).exists():
                    item = versions.judge(folder)
                    if item.stale:
                        self._problems.append(Problem(str(item.path), item.reason))
                elif self._load(name, number) is not None:
                    numbers.append(number)
            out.append((name, numbers))
        return out

    def _load(self, name: str, number: int) -> dict[str, Any] | None:
        where = layout.version_dir(self.root, name, number) / layout.MANIFEST
        try:
            doc = read_json(where)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self._problems.append(Problem(str(where), f"unreadable manifest: {exc}"))
            return None
        reason = _invalid(doc, name, number)
        if reason:
            self._problems.append(Problem(str(where), reason))
            return None
        manifest: dict[str, Any] = doc
        self._manifests[(name, number)] = manifest
        return manifest

    def version(self, name: str, number: int) -> DatasetVersion:
        manifest = self._manifests.get((name, number)) or self._load(name, number)
        if manifest is None:
            raise DatasetNotFoundError(f"dataset {name!r} has no version {number} in {self.root}")
        return DatasetVersion(name, number, layout.version_dir(self.root, name, number), manifest)

    def all_versions(self) -> list[DatasetVersion]:
        return [self.version(name, n) for name, numbers in self.scan() for n in numbers]

    def resolve(self, ref: str) -> DatasetVersion:
        """`name` (newest), `name@3`, `name/3`, or a unique fingerprint (prefix)."""
        parsed = layout.parse_ref(ref)
        if isinstance(parsed, str):
            return self._by_fingerprint(parsed)
        name, number = parsed
        if number is not None:
            return self.version(name, number)
        numbers = dict(self.scan()).get(name) or []
        if not numbers:
            if layout.looks_like_fingerprint(name):
                return self._by_fingerprint(name)
            raise DatasetNotFoundError(f"no dataset named {name!r} in {self.root}")
        return self.version(name, numbers[-1])

    def _by_fingerprint(self, text: str) -> DatasetVersion:
        prefix = text.strip()
        hits = [
            v
            for v in self.all_versions()
            if v.fingerprint.startswith(prefix)
            or v.fingerprint.partition(":")[2].startswith(prefix)
        ]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise DatasetNotFoundError(f"no dataset version has fingerprint {prefix!r}")
        refs = [v.ref for v in hits]
        raise AmbiguousDatasetError(
            f"fingerprint {prefix!r} matches {len(hits)} versions: {', '.join(refs[:10])}", refs
        )

    def with_fingerprint(self, fingerprint: str) -> list[DatasetVersion]:
        return [v for v in self.all_versions() if v.fingerprint == fingerprint]


def _invalid(doc: Any, name: str, number: int) -> str | None:
    if not isinstance(doc, dict) or doc.get("format") != layout.MANIFEST_FORMAT:
        return "not a dataset manifest"
    version = doc.get("schema_version")
    if not isinstance(version, int) or version > layout.MANIFEST_VERSION:
        return f"manifest schema_version {version!r} is newer than this mmtop reads"
    if doc.get("name") != name or doc.get("version") != number:
        return f"manifest names {doc.get('name')!r}/{doc.get('version')!r}, not its folder"
    if not isinstance(doc.get("fingerprint"), str):
        return "manifest has no fingerprint"
    return None
