"""mmtop's run store: log runs from training code, read them back.

Plain Parquet + JSON files under a root folder (see docs/FORMAT.md). This package never
imports Textual.
"""

from .compaction import CompactReport, compact
from .errors import (
    AmbiguousRunError,
    QueryError,
    ReadOnlyStoreError,
    RunNotFoundError,
    SchemaVersionError,
    StoreError,
)
from .reader import Store, open
from .records import Problem
from .runinfo import RunInfo
from .watch import Watcher, watch
from .writer import Run

__all__ = [
    "AmbiguousRunError",
    "CompactReport",
    "QueryError",
    "ReadOnlyStoreError",
    "Problem",
    "Run",
    "RunInfo",
    "RunNotFoundError",
    "SchemaVersionError",
    "Store",
    "StoreError",
    "compact",
    "open",
    "watch",
    "Watcher",
]
