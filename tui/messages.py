"""Messages workers and the watcher post to the app: past tense, they report what happened.

Workers never touch widgets; they post one of these and the screen applies it on the UI
thread. Bursts of `StoreChanged` collapse into one (`can_replace`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl
from textual.message import Message

if TYPE_CHECKING:
    from mmtop.store.datasets.version import DatasetVersion
    from mmtop.store.monitoring.report import MonitoringReport
    from mmtop.store.records import Problem
    from mmtop.store.registry.model_version import ModelVersion
    from mmtop.store.runinfo import RunInfo
    from mmtop.tui.reproduce_plan import Plan
    from mmtop.tui.run_extras import RunExtras, TableData, TableRef
    from mmtop.tui.runs_view import RunsModel


class StoreChanged(Message, bubble=False):
    """Something under the store root changed; the reader works out what.

    Posted to each screen by the app; it does not bubble back up to the app.
    """

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StoreChanged)


class LiveTick(Message, bubble=False):
    """The app's one clock for live runs: a screen showing one reads the store again
    (a writer that died changes no file; only its heartbeat's age tells)."""


@dataclass
class RunsLoaded(Message):
    frame: pl.DataFrame
    model: RunsModel  # built in the worker, so the UI thread only swaps it in
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class LoadFailed(Message):
    error: str


@dataclass
class RunDetailLoaded(Message):
    run_id: str
    info: RunInfo
    extras: RunExtras


@dataclass
class HistoryLoaded(Message):
    run_id: str
    frame: pl.DataFrame
    system: bool = False


@dataclass
class ConsoleRead(Message):
    run_id: str
    text: str


@dataclass
class StoreWritten(Message):
    """A write through the store API (tags, comment) finished; `error` says why not."""

    what: str
    error: str | None = None


@dataclass
class ReproducePlanned(Message):
    """What `mmtop reproduce` would do for a run, and its command."""

    plan: Plan | None  # None with an error
    command: str
    error: str | None = None


@dataclass
class ExportFinished(Message):
    path: str
    rows: int
    error: str | None = None


@dataclass
class TableRead(Message):
    """One logged table was read for the tables tab."""

    ref: TableRef
    data: TableData
    error: str | None = None


@dataclass
class ModelsLoaded(Message):
    frame: pl.DataFrame
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ModelDetailLoaded(Message):
    ref: str
    version: ModelVersion
    history: pl.DataFrame


@dataclass
class DatasetsLoaded(Message):
    frame: pl.DataFrame
    problems: list[Problem] = field(default_factory=list)


@dataclass
class DatasetDetailLoaded(Message):
    ref: str
    version: DatasetVersion
    lineage: dict[str, Any]  # as Store.dataset_lineage gives it (JSON-like)
    diff: dict[str, Any] | None = None  # as Store.dataset_diff gives it


@dataclass
class MonitorLoaded(Message):
    """A monitoring report and the serving version's baseline."""

    report: MonitoringReport
    baseline: dict[str, Any] | None
