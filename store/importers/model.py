"""What an importer hands over: one run of another tool, in mmtop's terms."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import StoreError


class ImportError_(StoreError):  # `ImportError` is a builtin
    """A source that cannot be imported at all (missing, unknown schema): nothing is written."""


@dataclass
class Points:
    """One metric's history, in the order the source keeps it."""

    step: np.ndarray[Any, np.dtype[np.int64]]
    time_us: np.ndarray[Any, np.dtype[np.int64]]
    value: np.ndarray[Any, np.dtype[np.float64]]


@dataclass
class SourceRun:
    """A run read from a source, ready to be written as an mmtop run."""

    source: str
    source_id: str
    experiment: str
    name: str
    status: str  # finished, failed or killed
    created: float  # seconds since the epoch
    ended: float | None = None
    user: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    source_tags: dict[str, str] = field(default_factory=dict)
    notes: str | None = None
    code: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    parent_id: str | None = None  # the source's id of the parent run (nested runs)
    metrics: dict[str, Points] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)  # explicit summary values
    # Values the source logged that mmtop keeps no series of (images, text...), by kind.
    left_out: dict[str, int] = field(default_factory=dict)
    uri: str = ""
    # Where the source keeps the run's files (a folder path or a URI), and the folder that
    # path must stay inside when copied (None: anywhere on this machine).
    artifacts: str | None = None
    artifacts_within: str | None = None
    copy: list[tuple[str, Path]] = field(default_factory=list)  # what --artifacts copies
    fingerprint: str | None = None  # of what was read (see Pending.fingerprint)


@dataclass
class Pending:
    """A run found in a source, not read yet: enough to tell whether it was imported."""

    source_id: str
    created: float
    where: str  # shown when reading it fails
    load: Callable[[], SourceRun]
    # What the source looks like now (a file's size, say), where it can still change: a run
    # imported at another fingerprint is reported as changed since, not imported again.
    fingerprint: str | None = None


@dataclass
class ImportReport:
    source: str
    found: int = 0
    imported: list[str] = field(default_factory=list)  # mmtop run ids
    skipped: list[str] = field(default_factory=list)  # imported before
    points: int = 0
    left_out: dict[str, int] = field(default_factory=dict)  # values not imported, by kind
    problems: list[dict[str, str]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # model versions imported: name/number
    model_events: int = 0  # alias, tag, description and deletion changes recorded
    notes: list[str] = field(default_factory=list)  # what this import did not do, and why


Scan = Iterator[Pending]


def run_id_for(source: str, source_id: str, created: float) -> str:
    """The mmtop run id of an imported run: time-sortable like a native one, and the same on
    every import of the same source run, which is what makes importing again add nothing."""
    when = dt.datetime.fromtimestamp(max(created, 0.0), dt.UTC)
    digest = hashlib.sha256(f"{source}\0{source_id}".encode()).hexdigest()[:12]
    return f"{when:%Y%m%dT%H%M%SZ}-{digest}"


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="microseconds")
