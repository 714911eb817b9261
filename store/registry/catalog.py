"""Reading the registry: models, committed versions, their manifests and events, cached.

Manifests never change once written, so each is parsed once per process; event folders are
re-listed only when they changed. What cannot be read is reported, never raised.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fsio import read_json
from ..records import Problem
from . import layout, versions
from .errors import ModelNotFoundError
from .events import EventLog, State
from .model_version import ModelVersion

if TYPE_CHECKING:
    import polars as pl


class Catalog:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._manifests: dict[tuple[str, int], dict[str, Any]] = {}
        self._logs: dict[str, EventLog] = {}
        self._problems: list[Problem] = []
        self.frames: dict[
            Any, pl.DataFrame
        ] = {}  # the last models() frame, by what it was built from

    # ----------------------------------------------------------------- listing
    def names(self) -> list[str]:
        try:
            with os.scandir(layout.registry_dir(self.root)) as it:
                found = [e.name for e in it if e.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return []
        out = []
        for name in sorted(found):
            try:
                out.append(layout.check_model_name(name))
            except ValueError:
                if not name.startswith("."):
                    where = layout.registry_dir(self.root) / name
                    self._problems.append(Problem(str(where), "not a valid model name"))
        return out

    def scan(self) -> list[tuple[str, list[int], State, int]]:
        """(name, committed versions, derived state, last event seq) of every model;
        refreshes problems()."""
        self._problems = []
        out = []
        for name in self.names():
            numbers, pending = self._list_versions(name)
            log = self.log(name)
            events = log.read()
            out.append((name, numbers, log.state(), events[-1]["seq"] if events else 0))
            self._problems.extend(log.problems)
            for folder in pending:
                item = versions.judge(Path(folder))
                if item.stale:
                    self._problems.append(Problem(str(item.path), item.reason))
        return out

    def versions(self, name: str) -> list[int]:
        """Committed versions whose manifests can be read."""
        return self._list_versions(name)[0]

    def _list_versions(self, name: str) -> tuple[list[int], list[str]]:
        """(committed versions, ascending; folders without a manifest)."""
        folder = str(layout.versions_dir(self.root, name))
        try:
            with os.scandir(folder) as it:
                found = [(layout.version_number(e.name), e.path) for e in it]
        except FileNotFoundError:
            return [], []
        numbers: list[int] = []
        pending: list[str] = []
        for number, path in sorted((n, p) for n, p in found if n is not None):
            if (name, number) in self._manifests:
                numbers.append(number)
            elif not os.path.exists(f"{path}/{layout.MANIFEST}"):
                pending.append(path)
            elif self._load(name, number) is not None:
                numbers.append(number)
        return numbers, pending

    def _load(self, name: str, number: int) -> dict[str, Any] | None:
        where = layout.version_dir(self.root, name, number) / layout.MANIFEST
        try:
            doc = read_json(where)
        except FileNotFoundError:
            return None  # not committed (yet): invisible
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

    def manifest(self, name: str, number: int) -> dict[str, Any]:
        found = self._manifests.get((name, number)) or self._load(name, number)
        if found is None:
            raise ModelNotFoundError(f"model {name!r} has no version {number} in {self.root}")
        return found

    def log(self, name: str) -> EventLog:
        log = self._logs.get(name)
        if log is None:
            log = self._logs[name] = EventLog(self.root, name)
        return log

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)

    # ----------------------------------------------------------------- resolving
    def resolve(self, ref: str, at: dt.datetime | None = None) -> ModelVersion:
        """`name`, `name/3`, `name@alias` or `name@target` (an alias first, else the version
        deployed at that target; at a past time with `at`) -> a committed version."""
        name, which = layout.parse_ref(ref)
        state = self.log(name).state(at)
        if isinstance(which, str):
            # An alias wins; otherwise `name@prod` is the version deployed at target prod.
            number = state.aliases.get(which, state.deployments.get(which))
            if number is None:
                when = f" at {at.isoformat()}" if at is not None else ""
                raise ModelNotFoundError(f"model {name!r} has no alias {which!r}{when}")
        elif isinstance(which, int):
            number = which
        else:
            numbers = self.versions(name)
            if at is not None:
                numbers = [n for n in numbers if _created(self.manifest(name, n)) <= at]
            if not numbers:
                raise ModelNotFoundError(f"no model named {name!r} in {self.root}")
            number = numbers[-1]
        return self.version(name, number, self.log(name).state())

    def version(self, name: str, number: int, state: State | None = None) -> ModelVersion:
        manifest = self.manifest(name, number)
        state = state or self.log(name).state()
        return ModelVersion(
            name=name,
            version=number,
            path=layout.version_dir(self.root, name, number),
            manifest=manifest,
            aliases=tuple(state.aliases_of(number)),
            deployed=tuple(sorted(t for t, v in state.deployments.items() if v == number)),
            description=state.descriptions.get(number, str(manifest.get("description") or "")),
            tags={**(manifest.get("tags") or {}), **state.tags.get(number, {})},
            deprecated=state.deprecated.get(number),
            catalog=self,
        )

    def children(self, name: str, number: int) -> list[str]:
        """`name/version` of every version whose parent is name/number."""
        out = []
        for other in self.names():
            for n in self.versions(other):
                parent = (self.manifest(other, n).get("lineage") or {}).get("parent") or {}
                if parent.get("name") == name and parent.get("version") == number:
                    out.append(f"{other}/{n}")
        return out


def _created(manifest: dict[str, Any]) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(str(manifest.get("created")))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _invalid(doc: Any, name: str, number: int) -> str | None:
    if not isinstance(doc, dict) or doc.get("format") != layout.MANIFEST_FORMAT:
        return "not a model manifest"
    version = doc.get("schema_version")
    if not isinstance(version, int) or version > layout.MANIFEST_VERSION:
        return f"manifest schema_version {version!r} is newer than this mmtop reads"
    if doc.get("name") != name or doc.get("version") != number:
        return f"manifest names {doc.get('name')!r}/{doc.get('version')!r}, not its folder"
    if not isinstance(doc.get("files"), list):
        return "manifest has no file list"
    return None
