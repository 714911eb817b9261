"""`RunInfo`: everything about one run, as plain Python objects, read on demand."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import polars as pl

from . import paths
from .capture.console import read_console
from .names import check_path_component
from .notes import parse_comments
from .records import Problem, parse_time
from .safe_files import (
    CAP_TEXT,
    RefusedFile,
    TooDeep,
    inside,
    json_cap,
    open_binary,
    read_head,
    read_json,
    read_tail,
    store_root_of,
)
from .shared import DEFAULT_STALE_AFTER, is_shared, writer_rows

if TYPE_CHECKING:
    from .reader import Store
    from .tables import ConfusionMatrix


class RunFiles:
    """Readers of a run's logged files; mixed into RunInfo. Missing files read as empty.

    Every file is read as untrusted input (store/safe_files.py): regular files only, capped,
    links followed only inside the store. What cannot be read is a Problem, never an error.
    """

    path: Path
    problems: list[Problem]

    @property
    def _root(self) -> str:
        return store_root_of(self.path)

    def _problem(self, where: Path, exc: BaseException) -> None:
        plain = isinstance(exc, RefusedFile | TooDeep)
        reason = f"unreadable: {exc}" if plain else f"unreadable ({type(exc).__name__})"
        problem = Problem(str(where), reason)
        if problem not in self.problems:
            self.problems.append(problem)

    def _json(self, name: str) -> Any:
        """A JSON file of the run; None when absent, or unreadable (then in `problems`)."""
        where = self.path / name
        try:
            self._folder_of(name)
            return read_json(where, json_cap(where.name), self._root)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self._problem(where, exc)
            return None

    def _text(self, name: str, tail: bool = False) -> str | None:
        """A text file of the run, at most CAP_TEXT bytes of it (its start, or its end)."""
        where = self.path / name
        try:
            data, cut = (read_tail if tail else read_head)(where, CAP_TEXT, self._root)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._problem(where, exc)
            return None
        if cut:
            self.problems.append(
                Problem(str(where), f"larger than the {CAP_TEXT >> 20} MiB cap: shown cut")
            )
            if tail:  # the first line is a partial one
                data = data[data.find(b"\n") + 1 :]
        return data.decode("utf-8", errors="replace")

    def _folder_of(self, name: str) -> None:
        """Refuse a file under a subfolder (tables/) that is a link leading out of the store."""
        sub = self.path / name.partition("/")[0]
        if "/" in name and sub.is_symlink() and not inside(sub, self._root):
            raise RefusedFile(f"{sub.name}/ is a symbolic link out of the store")

    def _parquet(self, name: str) -> BinaryIO:
        """An open Parquet file of the run (a table), checked like every other file."""
        self._folder_of(name)
        return open_binary(self.path / name, self._root)

    @property
    def env(self) -> dict[str, Any] | None:
        """env.json: Python, platform, CPU, RAM, GPUs, packages, allow-listed variables."""
        data = self._json(paths.ENV_JSON)
        return data if isinstance(data, dict) else None

    @property
    def code(self) -> dict[str, Any] | None:
        """code.json: command, working directory, git commit/branch/remote/dirty."""
        data = self._json(paths.CODE_JSON)
        return data if isinstance(data, dict) else None

    @property
    def patch(self) -> str | None:
        """code.patch: the uncommitted diff when the run started, if any."""
        return self._text(paths.CODE_PATCH)

    @property
    def artifacts(self) -> list[dict[str, Any]]:
        data = self._json(paths.ARTIFACTS_JSON)
        return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []

    @property
    def inputs(self) -> list[dict[str, Any]]:
        """Datasets the run used: name, uri, fingerprint, rows, schema."""
        data = self._json(paths.INPUTS_JSON)
        return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []

    @property
    def notes(self) -> str:
        return self._text(paths.NOTES_MD) or ""

    @property
    def comments(self) -> list[dict[str, Any]]:
        """Comments in order (the newest CAP_TEXT bytes of them); a torn or invalid line (a
        writer killed mid-way) is skipped."""
        return parse_comments(self._text(paths.COMMENTS_JSONL, tail=True) or "")

    def console_tail(self, lines: int = 200, rank: int | None = None) -> str:
        """The last `lines` lines of console.log (of `rank`'s log in a shared run), `\\r`
        progress bars rendered as a terminal would; empty when none was captured. Reads at
        most CAP_CONSOLE_TAIL bytes."""
        log = paths.console_log(self.path, rank)
        return "\n".join(read_console(log, lines, root=self._root))

    def tables(self) -> list[dict[str, Any]]:
        """Every logged table's description: name, kind, step, rows, labels."""
        out = []
        folder = self.path / paths.TABLES_DIR
        try:
            self._folder_of(f"{paths.TABLES_DIR}/")
            names = sorted(p.name for p in folder.iterdir() if p.suffix == ".json")
        except FileNotFoundError:
            return []
        except OSError as exc:
            self._problem(folder, exc)
            return []
        for name in names:
            meta = self._json(f"{paths.TABLES_DIR}/{name}")
            if isinstance(meta, dict) and (folder / (name[:-5] + ".parquet")).exists():
                out.append(meta)
        return out

    def table(self, name: str) -> pl.DataFrame:
        """A logged table by its full name (as `tables()` lists it)."""
        check_path_component(name, "table name")
        with self._parquet(f"{paths.TABLES_DIR}/{name}.parquet") as f:
            return pl.read_parquet(f)

    def _latest(self, kind: str, name: str, step: int | None) -> str:
        from . import tables  # numpy and pyarrow: only for runs that have tables

        prefix = (
            tables.CONFUSION_PREFIX if kind == "confusion_matrix" else tables.PREDICTIONS_PREFIX
        )
        if step is not None:
            return tables.table_name(prefix, name, step)
        found = [t for t in self.tables() if t.get("kind") == kind and t.get("of") == name]
        if not found:
            raise KeyError(f"no {kind.replace('_', ' ')} named {name!r} in run {self.path.name}")
        found.sort(key=lambda t: (t.get("step") is not None, t.get("step") or 0))
        return str(found[-1]["name"])

    def confusion_matrix(self, name: str = "val", step: int | None = None) -> ConfusionMatrix:
        """The confusion matrix `name` at `step` (default: the latest step logged)."""
        from .tables import read_confusion

        full = self._latest("confusion_matrix", name, step)
        meta = self._json(f"{paths.TABLES_DIR}/{full}.json")
        if not isinstance(meta, dict):
            raise ValueError(f"tables/{full}.json cannot be read")
        with self._parquet(f"{paths.TABLES_DIR}/{full}.parquet") as f:
            return read_confusion(meta, f)

    def predictions(self, name: str = "val", step: int | None = None) -> pl.DataFrame:
        """id, y_true, pred, confidence, correct, p:<class>... (latest step by default)."""
        full = self._latest("predictions", name, step)
        with self._parquet(f"{paths.TABLES_DIR}/{full}.parquet") as f:
            frame = pl.read_parquet(f)
        return frame.with_columns(
            pl.col(c).cast(pl.String) for c in ("y_true", "pred") if c in frame.columns
        )


@dataclass
class RunInfo(RunFiles):
    run_id: str
    experiment: str
    name: str
    status: str
    created: dt.datetime | None
    ended: dt.datetime | None
    host: str | None
    user: str | None
    pid: int | None
    command: list[str]
    tags: list[str]
    params: dict[str, Any]
    summary: dict[str, dict[str, Any]]
    values: dict[str, float]
    error: dict[str, Any] | None
    meta: dict[str, Any]
    path: Path
    last_seen: dt.datetime | None = None
    # Files of the run that could not be read, as the readers above met them.
    problems: list[Problem] = field(default_factory=list, compare=False)
    _store: Store | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_record(cls, rec: dict[str, Any], folder: Path, store: Store | None) -> RunInfo:
        meta = rec["meta"]
        command = meta.get("command")
        pid = meta.get("pid")
        return cls(
            run_id=str(meta["run_id"]),
            experiment=str(meta.get("experiment", "")),
            name=str(meta.get("name", "")),
            status=str(rec["status"]),
            created=parse_time(meta.get("created")),
            ended=parse_time(meta.get("ended")),
            host=meta.get("host"),
            user=meta.get("user"),
            pid=pid if isinstance(pid, int) else None,
            command=[str(c) for c in command] if isinstance(command, list) else [],
            tags=[str(t) for t in meta.get("tags") or []],
            params=dict(rec["params"]),
            summary=dict(rec["metrics"]),
            values=dict(rec["values"]),
            error=meta.get("error"),
            meta=dict(meta),
            path=folder,
            last_seen=rec.get("last_seen"),
            _store=store,
        )

    @property
    def duration_s(self) -> float | None:
        end = self.ended or self.last_seen
        if self.created is None or end is None:
            return None
        return (end - self.created).total_seconds()

    @property
    def last_step(self) -> int | None:
        steps = [int(s["last_step"]) for s in self.summary.values()]
        return max(steps) if steps else None

    @property
    def world_size(self) -> int | None:
        """How many writers a shared run expects; None for a run of one process."""
        return int(self.meta["world_size"]) if is_shared(self.meta) else None

    @property
    def writers(self) -> list[dict[str, Any]]:
        """Each process that wrote the run: writer, rank, host, pid, status, last_step,
        started, ended, attempt, error. Live writers read `running` or `crashed`."""
        if self._store is None:
            return writer_rows(self.path, self.meta, time.time(), DEFAULT_STALE_AFTER)
        return writer_rows(self.path, self.meta, self._store.store_time(), self._store.stale_after)

    @property
    def metric_keys(self) -> list[str]:
        return sorted(self.summary)

    def history(
        self, keys: list[str] | str | None = None, max_points: int | None = None
    ) -> pl.DataFrame:
        if self._store is None:
            raise RuntimeError("RunInfo is not attached to a store")
        return self._store.history([self.run_id], keys=keys, max_points=max_points)

    def system_history(self, max_points: int | None = None) -> pl.DataFrame:
        if self._store is None:
            raise RuntimeError("RunInfo is not attached to a store")
        return self._store.history([self.run_id], max_points=max_points, system=True)
