"""`RunInfo`: everything about one run, as plain Python objects, read on demand."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from . import paths
from .capture.console import read_console
from .frame import parse_time
from .fsio import read_json
from .names import check_path_component
from .notes import read_comments, read_notes
from .records import Problem
from .shared import DEFAULT_STALE_AFTER, is_shared, writer_rows

if TYPE_CHECKING:
    from .reader import Store
    from .tables import ConfusionMatrix


class RunFiles:
    """Readers of a run's logged files; mixed into RunInfo. Missing files read as empty."""

    path: Path
    problems: list[Problem]

    def _json(self, name: str) -> Any:
        """A JSON file of the run; None when absent, or unreadable (then in `problems`)."""
        where = self.path / name
        try:
            return read_json(where)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            problem = Problem(str(where), f"unreadable ({type(exc).__name__})")
            if problem not in self.problems:
                self.problems.append(problem)
            return None

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
        try:
            return (self.path / paths.CODE_PATCH).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return None

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
        return read_notes(self.path)

    @property
    def comments(self) -> list[dict[str, Any]]:
        return read_comments(self.path)

    def console_tail(self, lines: int = 200, rank: int | None = None) -> str:
        """The last `lines` lines of console.log (of `rank`'s log in a shared run), `\\r`
        progress bars rendered as a terminal would; empty when none was captured."""
        return "\n".join(read_console(paths.console_log(self.path, rank), lines))

    def tables(self) -> list[dict[str, Any]]:
        """Every logged table's description: name, kind, step, rows, labels."""
        out = []
        folder = self.path / paths.TABLES_DIR
        try:
            names = sorted(p.name for p in folder.iterdir() if p.suffix == ".json")
        except FileNotFoundError:
            return []
        for name in names:
            meta = self._json(f"{paths.TABLES_DIR}/{name}")
            if isinstance(meta, dict) and (folder / (name[:-5] + ".parquet")).exists():
                out.append(meta)
        return out

    def table(self, name: str) -> pl.DataFrame:
        """A logged table by its full name (as `tables()` lists it)."""
        check_path_component(name, "table name")
        return pl.read_parquet(paths.table_file(self.path, name), glob=False)

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

        return read_confusion(self.path, self._latest("confusion_matrix", name, step))

    def predictions(self, name: str = "val", step: int | None = None) -> pl.DataFrame:
        """id, y_true, pred, confidence, correct, p:<class>... (latest step by default)."""
        full = self._latest("predictions", name, step)
        return pl.read_parquet(paths.table_file(self.path, full), glob=False).with_columns(
            pl.col(c).cast(pl.String) for c in ("y_true", "pred") if c in self._columns(full)
        )

    def _columns(self, full: str) -> list[str]:
        import pyarrow.parquet as pq

        return list(pq.read_schema(paths.table_file(self.path, full)).names)


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
        stale = self._store.stale_after if self._store is not None else DEFAULT_STALE_AFTER
        return writer_rows(self.path, self.meta, time.time(), stale)

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
