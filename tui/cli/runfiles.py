"""The optional files of a run folder (env, code, data inputs, tables, artifacts, notes).

Each is read on its own and skipped with a reason when it is missing or unreadable, so
`mmtop show` and `mmtop diff` work on a run that recorded only some of them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmtop.store import paths

if TYPE_CHECKING:
    from mmtop.store import RunInfo

MAX_NOTES_CHARS = 64_000


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


def read_extras(info: RunInfo) -> Extras:
    """What the run logged, through the store's readers; unreadable files become problems."""
    run = info.path
    ex = Extras()
    ex.env = info.env
    ex.code = info.code
    ex.patch_bytes, ex.patch_sha256 = _digest(run / paths.CODE_PATCH)
    ex.inputs = info.inputs
    ex.artifacts = info.artifacts
    ex.tables = _tables(run / paths.TABLES_DIR, ex)
    notes = info.notes
    if notes:
        cut = len(notes) > MAX_NOTES_CHARS
        ex.notes = notes[:MAX_NOTES_CHARS] + ("\n[... truncated]" if cut else "")
    ex.comments = len(info.comments)
    ex.console_bytes = _size(run / paths.CONSOLE_LOG)
    ex.problems = [f"{Path(p.path).name}: {p.reason}" for p in info.problems] + ex.problems
    return ex


def _tables(folder: Path, ex: Extras) -> list[dict[str, Any]]:
    if not folder.is_dir():
        return []
    out: list[dict[str, Any]] = []
    for part in sorted(folder.glob("*.parquet")):
        entry: dict[str, Any] = {"name": part.stem}
        meta = _meta(part.with_suffix(".json"), ex)
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


def _meta(path: Path, ex: Extras) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        ex.problems.append(f"{path.name}: unreadable ({type(exc).__name__})")
        return None


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
