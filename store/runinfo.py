"""`RunInfo`: everything about one run, as plain Python objects, read on demand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from .frame import parse_time

if TYPE_CHECKING:
    from .reader import Store


@dataclass
class RunInfo:
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
