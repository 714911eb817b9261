"""Pointer versions: a version whose files live outside the store (another registry's).

A pointer's manifest has flavour `pointer`, no files, and a `pointer` record of where the
model is (docs/FORMAT.md, "Pointer versions"). It is committed like any version (a claimed
folder, the manifest created last), under the number the caller asks for when that number is
free, so a version imported from MLflow keeps its MLflow number unless mmtop used it already.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..fsio import write_json_atomic
from ..ids import hostname, now_iso, username
from . import layout, versions
from .events import EventLog, parse_time
from .model_version import POINTER


def claim_number(root: Path, name: str, wanted: int) -> tuple[int, Path]:
    """`wanted` when its folder is free (claimed by `mkdir`), else the next free number."""
    folder = layout.version_dir(root, name, wanted)
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(folder)
    except FileExistsError:
        return versions.claim(root, name)
    write_json_atomic(
        folder / layout.CLAIM,
        {"pid": os.getpid(), "host": hostname(), "user": username(), "claimed": now_iso()},
    )
    return wanted, folder


def register_pointer(
    root: Path,
    name: str,
    wanted: int,
    *,
    pointer: dict[str, Any],
    created: str,
    user: str | None,
    description: str,
    tags: dict[str, str],
    lineage: dict[str, Any],
    imported: dict[str, Any],
) -> int:
    """Commit a pointer version of `name` (number `wanted` if free); returns its number.
    Writes its `registered` event, dated `created` unless events of later times exist."""
    layout.check_model_name(name)
    from ..folders import ensure_store

    ensure_store(root)
    number, folder = claim_number(root, name, wanted)
    manifest = {
        "format": layout.MANIFEST_FORMAT,
        "schema_version": layout.MANIFEST_VERSION,
        "name": name,
        "version": number,
        "created": created,
        "user": user,
        "host": None,
        "pid": None,
        "description": description,
        "tags": tags,
        "flavour": POINTER,
        "serializer": None,
        "frameworks": {},
        "load": {},
        "files": [],
        "size": 0,
        "signature": {"inputs": None, "outputs": None},
        "input_example": None,
        "requirements": [],
        "lineage": lineage,
        "baseline": None,
        "pointer": pointer,
        "imported": imported,
    }
    try:
        versions.commit(folder, manifest)
    except BaseException:
        versions.abandon(folder)
        raise
    log = EventLog(root, name)
    origin = {"source": imported.get("source"), "time": created}
    log.append(
        lambda _: {
            "time": not_before(log, created),
            "action": "registered",
            "version": number,
            "from": None,
            "to": number,
            "imported": origin,
        }
    )
    return number


def not_before(log: EventLog, when: str | None) -> str:
    """`when` (ISO 8601), moved up to the newest event's time if that is later: replaying the
    history up to a time stops at the first later event, so times must not go backwards.
    None is now."""
    events = log.read()
    if when is None:
        when = now_iso()
    if events:
        try:
            if parse_time(str(events[-1]["time"])) > parse_time(when):
                return str(events[-1]["time"])
        except ValueError:
            pass
    return when
