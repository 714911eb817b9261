"""The optional files of a run folder (env, code, data inputs, tables, artifacts, notes).

Each is read on its own and skipped with a reason when it is missing or unreadable, so
`mmtop show` and `mmtop diff` work on a run that recorded only some of them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store import paths

MAX_NOTES_BYTES = 64_000


@dataclass
class Extras:
    env: dict[str, Any] | None = None
    code: dict[str, Any] | None = None
    patch_bytes: int | None = None
    patch_sha256: str | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    notes: str | None = None
    comments: int = 0
    console_bytes: int | None = None
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "code": self.code,
            "code_patch_bytes": self.patch_bytes,
            "code_patch_sha256": self.patch_sha256,
            "inputs": self.inputs,
            "tables": self.tables,
            "artifacts": self.artifacts,
            "notes": self.notes,
            "comments": self.comments,
            "console_bytes": self.console_bytes,
            "problems": self.problems,
        }


def read_extras(run: Path) -> Extras:
    ex = Extras()
    env = _json(run / paths.ENV_JSON, ex)
    ex.env = env if isinstance(env, dict) else None
    code = _json(run / paths.CODE_JSON, ex)
    ex.code = code if isinstance(code, dict) else None
    ex.patch_bytes, ex.patch_sha256 = _digest(run / paths.CODE_PATCH)
    ex.inputs = _items(_json(run / paths.INPUTS_JSON, ex), "name")
    ex.artifacts = _items(_json(run / paths.ARTIFACTS_JSON, ex), "name")
    ex.tables = _tables(run / paths.TABLES_DIR, ex)
    ex.notes = _text(run / paths.NOTES_MD, ex)
    ex.comments = _count_lines(run / paths.COMMENTS_JSONL, ex)
    ex.console_bytes = _size(run / paths.CONSOLE_LOG)
    return ex


def _json(path: Path, ex: Extras) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        ex.problems.append(f"{path.name}: unreadable ({type(exc).__name__})")
        return None


def _items(doc: Any, name_key: str) -> list[dict[str, Any]]:
    """A list of objects from `[...]`, `{"items": [...]}` or `{name: {...}}` documents."""
    if isinstance(doc, dict):
        for key in ("items", "inputs", "artifacts", "datasets", "files"):
            if isinstance(doc.get(key), list):
                doc = doc[key]
                break
        else:
            return [
                {name_key: k, **v} if isinstance(v, dict) else {name_key: k, "value": v}
                for k, v in doc.items()
            ]
    if isinstance(doc, list):
        return [d if isinstance(d, dict) else {name_key: d} for d in doc]
    return []


def _tables(folder: Path, ex: Extras) -> list[dict[str, Any]]:
    if not folder.is_dir():
        return []
    out: list[dict[str, Any]] = []
    for part in sorted(folder.glob("*.parquet")):
        entry: dict[str, Any] = {"name": part.stem}
        meta = _json(part.with_suffix(".json"), ex)
        if isinstance(meta, dict):
            entry["meta"] = meta
        try:
            import pyarrow.parquet as pq

            info = pq.ParquetFile(part).metadata
            entry["rows"] = info.num_rows
            entry["columns"] = info.num_columns
        except Exception as exc:  # noqa: BLE001 - a corrupt table is reported, not fatal
            ex.problems.append(f"tables/{part.name}: unreadable ({type(exc).__name__})")
        out.append(entry)
    return out


def _text(path: Path, ex: Extras) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_NOTES_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        ex.problems.append(f"{path.name}: unreadable ({exc.strerror})")
        return None
    text = data[:MAX_NOTES_BYTES].decode("utf-8", errors="replace")
    return text + ("\n[... truncated]" if len(data) > MAX_NOTES_BYTES else "")


def _count_lines(path: Path, ex: Extras) -> int:
    try:
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    except FileNotFoundError:
        return 0
    except OSError as exc:
        ex.problems.append(f"{path.name}: unreadable ({exc.strerror})")
        return 0


def _digest(path: Path) -> tuple[int | None, str | None]:
    """Size and sha256 of a file, so two runs' uncommitted changes can be told apart."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except OSError:
        return None, None
    return size, digest.hexdigest()


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
