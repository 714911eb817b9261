"""Artifacts (files copied into a run) and datasets (fingerprints of what a run trained on)."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import paths
from .capture.code import strip_url_credentials
from .fsio import locked, read_json, write_atomic, write_json_atomic
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
        for path in sorted(p for p in target.rglob("*") if p.is_file()):
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


def fingerprint(source: Any) -> dict[str, Any]:
    """Content fingerprint of a file, folder or frame, with rows/schema where known."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_file():
            return {
                "kind": "file",
                "uri": str(path.resolve()),
                "fingerprint": "blake2b:" + _hash_file(path),
                "size": path.stat().st_size,
                **_file_shape(path),
            }
        if path.is_dir():
            h = hashlib.blake2b(digest_size=16)
            size = 0
            count = 0
            for p in sorted(q for q in path.rglob("*") if q.is_file()):
                h.update(p.relative_to(path).as_posix().encode() + b"\0")
                h.update(bytes.fromhex(_hash_file(p)))
                size += p.stat().st_size
                count += 1
            return {
                "kind": "folder",
                "uri": str(path.resolve()),
                "fingerprint": "blake2b:" + h.hexdigest(),
                "size": size,
                "files": count,
            }
        raise FileNotFoundError(f"dataset source does not exist: {path}")
    from .tables import to_arrow

    table = to_arrow(source).combine_chunks()
    h = hashlib.blake2b(digest_size=16)
    h.update(str(table.schema).encode())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    h.update(sink.getvalue().to_pybytes())
    return {
        "kind": "frame",
        "uri": None,
        "fingerprint": "blake2b:" + h.hexdigest(),
        "rows": table.num_rows,
        "schema": {f.name: str(f.type) for f in table.schema},
    }


def _hash_file(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _file_shape(path: Path) -> dict[str, Any]:
    """Rows and schema of a Parquet file, cheaply from its footer; nothing for other files."""
    if path.suffix != ".parquet":
        return {}
    try:
        import pyarrow.parquet as pq

        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
        return {"rows": meta.num_rows, "schema": {f.name: str(f.type) for f in schema}}
    except Exception:  # noqa: BLE001 - not Parquet: the bytes' fingerprint stands
        return {}


def log_dataset(
    run: Path, source: Any, name: str, uri: str | None, extra: dict[str, Any]
) -> dict[str, Any]:
    check_path_component(name, "dataset name")
    # inputs.json is a list of entries holding the fields: two levels above them, and the
    # whole file must stay within the depth readers accept.
    extra = check_params(extra, "dataset fields", "dataset field", MAX_PARAM_DEPTH - 1)
    entry = {"name": name, **fingerprint(source), **extra, "logged": time.time()}
    if uri is not None:
        # inputs.json is shared like env.json: a token in a presigned or basic-auth URL stays out.
        entry["uri"] = strip_url_credentials(uri)
    _append_entry(run, paths.INPUTS_JSON, entry, "name")
    return entry
