"""MLflow registered models into mmtop's registry, as pointer versions (docs/CLI.md).

Each live MLflow version becomes a pointer version of the mmtop model of the same name (made
a valid mmtop name), numbered as in MLflow when that number is free. A version is known again
by its MLflow model name, number and creation time (kept in the manifest's `imported`), so a
second import adds nothing; what changed in MLflow since (new versions, description and tag
changes, aliases set, moved or removed, versions deleted) becomes events. MLflow keeps no time
for an alias, so alias events carry the import's time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..folders import find_run_dir
from ..ids import now_iso
from ..registry import layout, lineage
from ..registry.catalog import Catalog
from ..registry.events import EventLog, State
from ..registry.pointer import not_before, register_pointer
from .mlflow_registry import MlflowModel, MlflowVersion
from .model import ImportReport, iso, run_id_for

SOURCE = "mlflow"
DELETED_REASON = "deleted in MLflow"
_NOT_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def model_name(name: str) -> str:
    """An MLflow model name as an mmtop one: runs of other characters become `-`."""
    text = _NOT_NAME.sub("-", name).lstrip("._-")[:128].rstrip("-")
    return text or "model"


def import_registry(
    location: str, root: Path, runs: dict[str, float], report: ImportReport
) -> None:
    """The registry of the MLflow store at `location` (SQLite or file store), if it has one."""
    if location.startswith("sqlite:"):
        from . import mlflow_sqlite
        from .mlflow_registry import read_sqlite

        db, _ = mlflow_sqlite.connect(location)
        try:
            models = read_sqlite(db)
        finally:
            db.close()
    else:
        from .mlflow_files import store_folder
        from .mlflow_registry import read_files

        models = read_files(store_folder(location), report.problems)
    import_models(models, root, location, runs, report)


def import_models(
    models: list[MlflowModel],
    root: Path,
    location: str,
    runs: dict[str, float],
    report: ImportReport,
) -> None:
    """Bring `models` into the registry at `root`; `runs` maps MLflow run ids found in the
    source to their start times (which, with the id, give the imported mmtop run's id)."""
    catalog = Catalog(root)
    for model in models:
        name = model_name(model.name)
        try:
            _one(model, name, root, catalog, location, runs, report)
        except (OSError, ValueError) as exc:
            report.problems.append({"path": f"{location} model {model.name}", "reason": str(exc)})


def _one(
    model: MlflowModel,
    name: str,
    root: Path,
    catalog: Catalog,
    location: str,
    runs: dict[str, float],
    report: ImportReport,
) -> None:
    known = _known(catalog, name)
    other = sorted({m for m, _, _ in known if m != model.name})
    if other:
        # Two MLflow names that read the same as mmtop names: their versions and aliases
        # must not mix in one model.
        reason = (
            f"left out: mmtop model {name!r} holds MLflow model {other[0]!r}, and "
            f"{model.name!r} has the same mmtop name"
        )
        report.problems.append({"path": f"{location} model {model.name}", "reason": reason})
        return
    numbers: dict[int, int] = {}  # MLflow version -> mmtop version
    log = EventLog(root, name)
    for version in model.versions:
        key = (model.name, version.version, version.created_ms)
        number = known.get(key)
        if version.deleted:
            if number is not None:
                _append(log, report, version.updated_ms, _deprecate(number))
            continue
        if number is None:
            number = _register(model, version, name, root, location, runs)
            report.models.append(f"{name}/{number}")
        else:
            _sync(log, report, catalog.manifest(name, number), number, version)
        numbers[version.version] = number
    for alias, target in sorted(model.aliases.items()):
        if target not in numbers:
            reason = f"alias {alias!r} points at version {target}, which was not imported"
            report.problems.append({"path": f"{location} model {model.name}", "reason": reason})
            continue
        try:
            layout.check_alias(alias)
        except ValueError as exc:
            report.problems.append({"path": f"{location} model {model.name}", "reason": str(exc)})
            continue
        _append(log, report, None, _move(alias, numbers[target]))
    for alias in sorted(_imported_aliases(log)):
        if alias not in model.aliases:
            _append(log, report, None, _move(alias, None))


def _known(catalog: Catalog, name: str) -> dict[tuple[str, int, int | None], int]:
    """(MLflow model, version, creation time) -> mmtop version, for versions imported before."""
    out: dict[tuple[str, int, int | None], int] = {}
    for number in catalog.versions(name):
        found = catalog.manifest(name, number).get("imported")
        if isinstance(found, dict) and found.get("source") == SOURCE:
            out[
                (str(found.get("model")), int(found.get("version", 0)), found.get("created_ms"))
            ] = number
    return out


def _register(
    model: MlflowModel,
    version: MlflowVersion,
    name: str,
    root: Path,
    location: str,
    runs: dict[str, float],
) -> int:
    run_dir = None
    if version.run_id is not None and version.run_id in runs:
        run_dir = find_run_dir(root, run_id_for(SOURCE, version.run_id, runs[version.run_id]))
    found = lineage.from_run(run_dir) if run_dir is not None else {}
    found["parent"] = None
    created = iso(version.created_ms / 1000.0) if version.created_ms is not None else None
    return register_pointer(
        root,
        name,
        version.version,
        pointer={
            "uri": version.source,
            "status": version.status,
            "status_message": version.status_message,
            "local": _local_copy(version.source, version.run_id, run_dir, root),
        },
        created=created or now_iso(),
        user=version.user,
        description=version.description,
        tags=dict(version.tags),
        lineage=found,
        imported={
            "source": SOURCE,
            "uri": location,
            "model": model.name,
            "version": version.version,
            "created_ms": version.created_ms,
            "run_id": version.run_id,
            "model_description": model.description,
            "model_tags": dict(model.tags),
        },
    )


def _local_copy(source: str, run_id: str | None, run_dir: Path | None, root: Path) -> str | None:
    """The copy of a `runs:/<id>/<path>` model that `--artifacts` brought in with its run,
    relative to the store root; None when there is none."""
    if run_dir is None or run_id is None or not source.startswith(f"runs:/{run_id}/"):
        return None
    rel = source.removeprefix(f"runs:/{run_id}/").strip("/")
    if not rel or ".." in rel.split("/"):
        return None
    folder = run_dir / "artifacts" / rel
    return folder.relative_to(root).as_posix() if folder.exists() else None


Make = Callable[[State], dict[str, Any] | None]


def _append(log: EventLog, report: ImportReport, when_ms: int | None, make: Make) -> None:
    """Append what `make` returns, dated `when_ms` (None: unknown, the import's time)."""
    source_time = iso(when_ms / 1000.0) if when_ms is not None else None

    def dated(state: State) -> dict[str, Any] | None:
        body = make(state)
        if body is None:
            return None
        origin = {"source": SOURCE, "time": source_time}
        return {"time": not_before(log, source_time), **body, "imported": origin}

    if log.append(dated) is not None:
        report.model_events += 1


def _move(alias: str, number: int | None) -> Make:
    def make(state: State) -> dict[str, Any] | None:
        current = state.aliases.get(alias)
        if current == number:
            return None
        return {"action": "alias", "alias": alias, "from": current, "to": number}

    return make


def _deprecate(number: int) -> Make:
    def make(state: State) -> dict[str, Any] | None:
        if number in state.deprecated:
            return None
        body = {"action": "deprecated", "version": number, "from": False, "to": True}
        return {**body, "reason": DELETED_REASON}

    return make


def _change(
    log: EventLog, number: int, action: str, value: str | None, key: str | None, initial: Any
) -> Make:
    def make(state: State) -> dict[str, Any] | None:
        current = initial
        for event in log.read():  # the newest change wins; a removed tag reads None
            if event.get("action") == action and event.get("version") == number:
                if key is None or event.get("key") == key:
                    current = event.get("to")
        if current == value:
            return None
        body = {"action": action, "version": number, "from": current, "to": value}
        return {**body, "key": key} if key is not None else body

    return make


def _sync(
    log: EventLog,
    report: ImportReport,
    manifest: dict[str, Any],
    number: int,
    version: MlflowVersion,
) -> None:
    """Description and tag changes made in MLflow since the version was imported."""
    when = version.updated_ms
    first = str(manifest.get("description") or "")
    change = _change(log, number, "description", version.description, None, first)
    _append(log, report, when, change)
    found = manifest.get("tags")
    tags: dict[str, Any] = found if isinstance(found, dict) else {}
    changed = {str(e.get("key")) for e in log.read() if e.get("action") == "tag"}
    for key in sorted(set(tags) | changed | set(version.tags)):
        change = _change(log, number, "tag", version.tags.get(key), key, tags.get(key))
        _append(log, report, when, change)


def _imported_aliases(log: EventLog) -> set[str]:
    """Aliases whose newest move came from an import: an alias set in mmtop stays as it is
    when MLflow does not have it."""
    last: dict[str, bool] = {}
    for event in log.read():
        if event.get("action") == "alias" and isinstance(event.get("alias"), str):
            origin = event.get("imported")
            last[event["alias"]] = isinstance(origin, dict) and origin.get("source") == SOURCE
    state = log.state()
    return {a for a, imported in last.items() if imported and a in state.aliases}
