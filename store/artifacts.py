"""Artifacts (files copied into a run) and datasets (fingerprints of what a run trained on)."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

from . import paths
from .capture.code import strip_url_credentials
from .fsio import locked, mirror_for, read_json, write_atomic, write_json_atomic
from .names import MAX_PARAM_DEPTH, check_params, check_path_component

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _append_entry(run: Path, file_name: str, entry: dict[str, Any], key: str) -> None:
    """Add or replace (by `key`) an entry of a JSON list file, under the run's lock."""
    target = run / file_name
    with locked(run):
        try:
            entries = read_json(target)
            if not isinstance(entries, list):
                entries = []
        except FileNotFoundError:
            entries = []
        entries = [e for e in entries if not (isinstance(e, dict) and e.get(key) == entry[key])]
        entries.append(entry)
        write_json_atomic(target, entries)


def log_artifact(run: Path, source: Path, name: str | None) -> dict[str, Any]:
    """Copy a file or folder into artifacts/<name>, recording size and sha256 of each file."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"artifact source does not exist: {source}")
    if name is None and source.name.startswith((".", "_")):
        raise ValueError(
            f"artifact file name {source.name!r} starts with '.' or '_': pass name=... to store it"
        )
    artifact = check_path_component(name if name is not None else source.name, "artifact name")
    folder = run / paths.ARTIFACTS_DIR
    if source.is_dir() and folder.resolve().is_relative_to(source.resolve()):
        # The copy would land inside what is being copied and chase itself until paths get
        # too long: the usual case is logging the project folder that holds ./mmruns.
        raise ValueError(
            f"cannot log folder {source} as an artifact: it holds this run's artifacts folder "
            f"({folder}); log a subfolder, or keep the store outside it"
        )
    folder.mkdir(exist_ok=True)
    target = folder / artifact
    files: list[dict[str, Any]] = []
    if source.is_dir():
        staging = folder / f".{artifact}.{os.getpid()}.tmp"
        try:
            shutil.copytree(source, staging, symlinks=False, dirs_exist_ok=False)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # no half copy left behind
            raise
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
        mirror = mirror_for(target)
        for path in sorted(p for p in target.rglob("*") if p.is_file()):
            if mirror is not None:  # object storage has no folders to rename: file by file
                mirror.put_file(path, path)
            rel = path.relative_to(target).as_posix()
            files.append({"path": rel, "size": path.stat().st_size, "sha256": sha256_file(path)})
        size = sum(f["size"] for f in files)
        digest = hashlib.sha256(
            "".join(f"{f['path']}\0{f['sha256']}\n" for f in files).encode()
        ).hexdigest()
    else:
        write_atomic(target, lambda tmp: shutil.copyfile(source, tmp))
        size = target.stat().st_size
        digest = sha256_file(target)
    entry = {
        "name": artifact,
        "path": f"{paths.ARTIFACTS_DIR}/{artifact}",
        "kind": "folder" if source.is_dir() else "file",
        "size": size,
        "sha256": digest,
        "source": str(source.resolve()),
        "logged": time.time(),
    }
    if files:
        entry["files"] = files
    _append_entry(run, paths.ARTIFACTS_JSON, entry, "name")
    return entry


def log_dataset(
    run: Path,
    source: Any,
    name: str,
    uri: str | None,
    extra: dict[str, Any],
    registry: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record a dataset in the run's inputs.json; with `registry` ({"name", and register()'s
    keyword arguments}), also register it as a version and record which one."""
    from .datasets import sources

    check_path_component(name, "dataset name")
    # inputs.json is a list of entries holding the fields: two levels above them, and the
    # whole file must stay within the depth readers accept.
    extra = check_params(extra, "dataset fields", "dataset field", MAX_PARAM_DEPTH - 1)
    described = sources.describe(source)
    entry = {"name": name, **described, **extra, "logged": time.time()}
    if uri is not None:
        # inputs.json is shared like env.json: a token in a presigned or basic-auth URL stays out.
        entry["uri"] = strip_url_credentials(uri)
    if registry is not None:
        from .datasets.register import register

        options = dict(registry)
        dataset = str(options.pop("name"))
        number, _ = register(
            run.parent.parent,
            dataset,
            source,
            described=described,
            uri=entry["uri"],
            run={"run_id": run.name, "experiment": run.parent.name},
            **options,
        )
        entry["dataset"] = {"name": dataset, "version": number}
    _append_entry(run, paths.INPUTS_JSON, entry, "name")
    return entry
