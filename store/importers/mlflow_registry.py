"""MLflow's model registry, read from either store without importing mlflow.

SQLite: `registered_models`, `model_versions`, `model_version_tags`, `registered_model_tags`
and `registered_model_aliases` (absent from schemas older than MLflow's aliases: none then).
File store: `mlruns/models/<name>/meta.yaml`, `tags/<key>`, `aliases/<alias>` (the version
number as text), and `version-<n>/meta.yaml` with `tags/<key>`. Both keep a deleted version
with the stage `Deleted_Internal`, which is read as `deleted`.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

DELETED_STAGE = "Deleted_Internal"


@dataclass
class MlflowVersion:
    version: int
    created_ms: int | None
    updated_ms: int | None
    description: str
    user: str | None
    source: str
    run_id: str | None
    status: str
    status_message: str | None
    tags: dict[str, str] = field(default_factory=dict)
    deleted: bool = False


@dataclass
class MlflowModel:
    name: str
    created_ms: int | None
    description: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> MLflow version
    versions: list[MlflowVersion] = field(default_factory=list)


def _ms(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def read_sqlite(db: sqlite3.Connection) -> list[MlflowModel]:
    tables = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not {"registered_models", "model_versions"} <= tables:
        return []
    models: dict[str, MlflowModel] = {}
    for name, created, description in db.execute(
        "SELECT name, creation_time, description FROM registered_models ORDER BY name"
    ):
        models[str(name)] = MlflowModel(str(name), _ms(created), str(description or ""))
    if "registered_model_tags" in tables:
        for key, value, name in db.execute("SELECT key, value, name FROM registered_model_tags"):
            if str(name) in models:
                models[str(name)].tags[str(key)] = str(value or "")
    version_tags: dict[tuple[str, int], dict[str, str]] = {}
    if "model_version_tags" in tables:
        for key, value, name, version in db.execute(
            "SELECT key, value, name, version FROM model_version_tags"
        ):
            version_tags.setdefault((str(name), int(version)), {})[str(key)] = str(value or "")
    for row in db.execute(
        "SELECT name, version, creation_time, last_updated_time, description, user_id, "
        "current_stage, source, run_id, status, status_message FROM model_versions "
        "ORDER BY name, version"
    ):
        model = models.get(str(row[0]))
        if model is None:
            continue
        number = int(row[1])
        model.versions.append(
            MlflowVersion(
                version=number,
                created_ms=_ms(row[2]),
                updated_ms=_ms(row[3]),
                description=str(row[4] or ""),
                user=_text(row[5]) or None,
                source=str(row[7] or ""),
                run_id=_text(row[8]) or None,
                status=str(row[9] or "READY"),
                status_message=_text(row[10]),
                tags=version_tags.get((model.name, number), {}),
                deleted=row[6] == DELETED_STAGE,
            )
        )
    if "registered_model_aliases" in tables:
        for alias, version, name in db.execute(
            "SELECT alias, version, name FROM registered_model_aliases"
        ):
            if str(name) in models:
                models[str(name)].aliases[str(alias)] = int(version)
    return list(models.values())


def read_files(root: Path, problems: list[dict[str, str]]) -> list[MlflowModel]:
    """The registry under `<mlruns>/models/`; a model or version whose meta.yaml cannot be
    read is listed in `problems` and left out."""
    from .mlflow_files import load_yaml, texts

    folder = root / "models"
    if not folder.is_dir():
        return []
    out: list[MlflowModel] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not entry.is_dir():
            continue
        where = Path(entry.path)
        try:
            meta = load_yaml(where / "meta.yaml")
        except FileNotFoundError:
            continue
        except Exception as exc:  # noqa: BLE001 - a damaged file of any kind is reported
            problems.append({"path": str(where / "meta.yaml"), "reason": _reason(exc)})
            continue
        model = MlflowModel(
            name=str(meta.get("name") or entry.name),
            created_ms=_ms(meta.get("creation_timestamp")),
            description=str(meta.get("description") or ""),
            tags=texts(where / "tags"),
        )
        for alias, text in texts(where / "aliases").items():
            try:
                model.aliases[alias] = int(text.strip())
            except ValueError:
                problems.append({"path": str(where / "aliases" / alias), "reason": "not a number"})
        for sub in sorted(os.scandir(where), key=lambda e: e.name):
            if sub.is_dir() and sub.name.startswith("version-"):
                found = _version(Path(sub.path), problems)
                if found is not None:
                    model.versions.append(found)
        model.versions.sort(key=lambda v: v.version)
        out.append(model)
    return out


def _version(folder: Path, problems: list[dict[str, str]]) -> MlflowVersion | None:
    from .mlflow_files import load_yaml, texts

    try:
        meta = load_yaml(folder / "meta.yaml")
        number = int(meta.get("version") or folder.name.removeprefix("version-"))
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged file of any kind is reported
        problems.append({"path": str(folder / "meta.yaml"), "reason": _reason(exc)})
        return None
    return MlflowVersion(
        version=number,
        created_ms=_ms(meta.get("creation_timestamp")),
        updated_ms=_ms(meta.get("last_updated_timestamp")),
        description=str(meta.get("description") or ""),
        user=_text(meta.get("user_id")) or None,
        source=str(meta.get("source") or ""),
        run_id=_text(meta.get("run_id")) or None,
        status=str(meta.get("status") or "READY"),
        status_message=_text(meta.get("status_message")),
        tags=texts(folder / "tags"),
        deleted=meta.get("current_stage") == DELETED_STAGE,
    )


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
