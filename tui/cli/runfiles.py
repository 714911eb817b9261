"""The optional files of a run folder (env, code, data inputs, tables, artifacts, notes).

Each is read on its own and skipped with a reason when it is missing or unreadable, so
`mmtop show` and `mmtop diff` work on a run that recorded only some of them.
"""

from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmtop.store import paths
from mmtop.store.names import check_path_component
from mmtop.store.safe_files import RefusedFile, open_binary
from mmtop.tui.run_extras import TableRef, gather

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
    """What the run logged, read by the app's reader (`run_extras.gather`), plus the sizes
    and digests the commands print; unreadable files become problems."""
    got = gather(info)
    run = info.path
    ex = Extras()
    ex.env = got.env if isinstance(got.env, dict) else None
    ex.code = got.code if isinstance(got.code, dict) else None
    ex.patch_bytes, ex.patch_sha256 = _digest(run / paths.CODE_PATCH, ex)
    ex.inputs = list(got.inputs or [])
    ex.artifacts = list(got.artifacts or [])
    ex.tables = [_table(info, ref, ex) for ref in got.tables]
    if got.notes:
        cut = len(got.notes) > MAX_NOTES_CHARS
        ex.notes = got.notes[:MAX_NOTES_CHARS] + ("\n[... truncated]" if cut else "")
    ex.comments = len(got.comments)
    ex.console_bytes = _size(run / paths.CONSOLE_LOG)
    read_errors = [f"{name}: {error}" for name, error in got.errors.items()]
    ex.problems = (
        [f"{Path(p.path).name}: {p.reason}" for p in info.problems] + read_errors + ex.problems
    )
    return ex


def _table(info: RunInfo, ref: TableRef, ex: Extras) -> dict[str, Any]:
    """A logged table's name and sidecar, and its shape from the Parquet footer."""
    entry: dict[str, Any] = {"name": ref.name, "meta": ref.meta}
    try:
        import pyarrow.parquet as pq

        # The name comes from the sidecar's text: never a path out of tables/.
        part = paths.table_file(info.path, check_path_component(ref.name, "table name"))
        with open_binary(part, info.path.parent.parent) as handle:
            shape = pq.ParquetFile(handle).metadata
        entry["rows"] = shape.num_rows
        entry["columns"] = shape.num_columns
    except Exception as exc:  # noqa: BLE001 - a corrupt table is reported, not fatal
        ex.problems.append(f"tables/{ref.name}.parquet: unreadable ({_why(exc)})")
    return entry


def _why(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, RefusedFile) else type(exc).__name__


def _digest(path: Path, ex: Extras) -> tuple[int | None, str | None]:
    """Size and sha256 of a file, so two runs' uncommitted changes can be told apart."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open_binary(path, path.parent.parent.parent) as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except RefusedFile as exc:
        ex.problems.append(f"{path.name}: unreadable: {exc}")
        return None, None
    except OSError:
        return None, None
    return size, digest.hexdigest()


def _size(path: Path) -> int | None:
    """A regular file's size; None for anything else (a link's target is not the run's)."""
    try:
        st = path.lstat()
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None
