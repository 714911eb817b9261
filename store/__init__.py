"""mmtop's run store: log runs from training code, read them back.

Plain Parquet + JSON files under a root folder (see docs/FORMAT.md). This package never
imports Textual.
"""

from typing import TYPE_CHECKING, Any

from .errors import (
    AmbiguousRunError,
    QueryError,
    ReadOnlyStoreError,
    RunNotFoundError,
    SchemaVersionError,
    StoreError,
    StoreWriteError,
)

if TYPE_CHECKING:
    from .compaction import CompactReport, compact
    from .datasets import (
        AmbiguousDatasetError,
        DatasetNotFoundError,
        DatasetUnavailableError,
        DatasetVersion,
        log_dataset_version,
    )
    from .monitoring.logger import PredictionLogger, monitor
    from .reader import Store, open
    from .records import Problem
    from .registry import (
        ModelIntegrityError,
        ModelNotFoundError,
        ModelPointerError,
        ModelVersion,
        UntrustedModelError,
        load_model,
    )
    from .runinfo import RunInfo
    from .watcher import Watcher, watch
    from .writer import Run

# Loaded on first use (PEP 562): a training script pays for the writer, `mmtop ls` for the
# reader, and neither for the other's imports (pyarrow, numpy, polars).
_LAZY = {
    "CompactReport": "compaction",
    "compact": "compaction",
    "Store": "reader",
    "open": "reader",
    "Problem": "records",
    "RunInfo": "runinfo",
    "Watcher": "watcher",
    "watch": "watcher",
    "Run": "writer",
    "load_model": "registry",
    "log_dataset_version": "datasets",
    "DatasetVersion": "datasets",
    "DatasetNotFoundError": "datasets",
    "AmbiguousDatasetError": "datasets",
    "DatasetUnavailableError": "datasets",
    "monitor": "monitoring.logger",
    "PredictionLogger": "monitoring.logger",
    "ModelVersion": "registry",
    "ModelNotFoundError": "registry",
    "ModelIntegrityError": "registry",
    "ModelPointerError": "registry",
    "UntrustedModelError": "registry",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'store' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


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
    "StoreWriteError",
    "compact",
    "load_model",
    "log_dataset_version",
    "DatasetVersion",
    "DatasetNotFoundError",
    "AmbiguousDatasetError",
    "DatasetUnavailableError",
    "monitor",
    "PredictionLogger",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "ModelPointerError",
    "ModelVersion",
    "UntrustedModelError",
    "open",
    "watch",
    "Watcher",
]
