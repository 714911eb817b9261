"""Registering a dataset version: look the content up, else claim a number and commit.

A version is identified by its content fingerprint: registering content that a version of
the name already has returns that version. The lookup and the claim happen under the
dataset's lock (`_datasets/<name>/.lock`), so two processes registering the same content at
once end with one version; the fingerprinting, the slow part, happens before the lock. The
folder is claimed with `mkdir` and committed by its manifest, written last (the model
registry's rule), so a registration killed half-way leaves a folder readers never show.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..capture.code import strip_url_credentials
from ..fsio import locked, write_atomic, write_json_atomic
from ..ids import hostname, now_iso, username
from ..names import check_text
from ..registry import versions
from ..registry.verify import describe_files
from . import layout, sources
from .catalog import committed_manifests

MAX_DESCRIPTION = 10_000


def register(
    root: Path,
    name: str,
    source: Any,
    *,
    described: dict[str, Any] | None = None,
    uri: str | None = None,
    key: str | Sequence[str] | None = None,
    labels: dict[str, Any] | None = None,
    parent: dict[str, Any] | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    snapshot: bool = False,
    run: dict[str, Any] | None = None,
) -> tuple[int, bool]:
    """(version, created): the version of `name` holding this content, added if new."""
    layout.check_dataset_name(name)
    if description is not None:
        check_text(description, "description", MAX_DESCRIPTION)
    tag_map = {
        check_text(k, "tag key"): check_text(v, "tag value") for k, v in (tags or {}).items()
    }
    info = dict(described) if described is not None else sources.describe(source)
    if uri is not None:
        info["uri"] = strip_url_credentials(check_text(uri, "uri", 4096))
    keys = _keys(key, info.get("schema"))
    found = find(root, name, str(info["fingerprint"]))
    if found is not None:
        return found, False
    profile = sources.profile_of(source, info)  # slow: before the lock, only for new content
    _ensure_store(root)
    home = layout.dataset_dir(root, name)
    home.mkdir(parents=True, exist_ok=True)
    with locked(home):
        found = find(root, name, str(info["fingerprint"]))
        if found is not None:
            return found, False
        number, folder = versions.claim_in(layout.versions_dir(root, name))
        try:
            files: list[dict[str, Any]] = []
            if profile is not None:
                write_json_atomic(folder / layout.PROFILE, profile)
                files += describe_files(folder, layout.PROFILE)
            if snapshot:
                target = folder / layout.SNAPSHOT
                write_atomic(target, lambda tmp: sources.write_snapshot(source, tmp))
                files += describe_files(folder, layout.SNAPSHOT)
            manifest = {
                "format": layout.MANIFEST_FORMAT,
                "schema_version": layout.MANIFEST_VERSION,
                "name": name,
                "version": number,
                "fingerprint": info["fingerprint"],
                "kind": info["kind"],
                "uri": info.get("uri"),
                "size": info.get("size"),
                "files": info.get("files"),
                "rows": info.get("rows"),
                "schema": [{"name": k, "type": v} for k, v in (info.get("schema") or {}).items()],
                "key": keys,
                "labels": labels,
                "parent": parent,
                "description": description or "",
                "tags": tag_map,
                "created": now_iso(),
                "user": username(),
                "host": hostname(),
                "pid": os.getpid(),
                "run": run,
                "snapshot": layout.SNAPSHOT if snapshot else None,
                "profile": layout.PROFILE if profile is not None else None,
                "stored": files,
            }
            versions.commit(folder, manifest)
        except BaseException:
            versions.abandon(folder)
            raise
        # The manifest appeared inside the version folder, which nobody watches; a new mtime
        # on versions/ is what watchers (events or polling) see.
        os.utime(folder.parent)
    return number, True


def find(root: Path, name: str, fingerprint: str) -> int | None:
    """The committed version of `name` with this fingerprint, if any."""
    for number, manifest in committed_manifests(root, name):
        if manifest.get("fingerprint") == fingerprint:
            return number
    return None


def _keys(key: str | Sequence[str] | None, schema: Any) -> list[str] | None:
    """The key columns as a list; each must be a column of the data when its schema is known."""
    if key is None:
        return None
    keys = [key] if isinstance(key, str) else [str(k) for k in key]
    if not keys:
        return None
    if isinstance(schema, dict):
        missing = [k for k in keys if k not in schema]
        if missing:
            raise ValueError(f"key column {missing[0]!r} is not a column of the dataset")
    return keys


def _ensure_store(root: Path) -> None:
    from ..folders import ensure_store

    ensure_store(root)
