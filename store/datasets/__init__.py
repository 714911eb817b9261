"""The dataset registry under `<root>/_datasets/`: versions identified by their content
fingerprint, with schema, rows, profile, source uri, labels and lineage (docs/FORMAT.md,
"Dataset registry")."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import AmbiguousDatasetError, DatasetNotFoundError, DatasetUnavailableError
from .version import DatasetVersion


def log_dataset_version(
    name: str,
    source: Any,
    root: str | os.PathLike[str] | None = None,
    *,
    uri: str | None = None,
    key: str | Sequence[str] | None = None,
    labels: str | None = None,
    parent: str | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    snapshot: bool = False,
) -> DatasetVersion:
    """Register a frame, array, file or folder as a version of dataset `name` in the store at
    `root` (default $MMTOP_DIR, else ./mmruns; created when missing), outside any run: the
    output of a data pipeline, a relabelled set. Same content: the existing version."""
    from ..folders import ensure_store
    from ..paths import default_root, local_root
    from ..reader import open as open_store

    where = local_root(root) if root is not None else default_root()
    ensure_store(where)
    return open_store(where, cache=False).log_dataset_version(
        name,
        source,
        uri=uri,
        key=key,
        labels=labels,
        parent=parent,
        description=description,
        tags=tags,
        snapshot=snapshot,
    )


__all__ = [
    "log_dataset_version",
    "AmbiguousDatasetError",
    "DatasetNotFoundError",
    "DatasetUnavailableError",
    "DatasetVersion",
]
