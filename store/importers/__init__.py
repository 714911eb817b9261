"""Importers: bring runs logged by other tools (MLflow, TensorBoard, W&B) into a store.

One module per source; each imports its framework (if any) only when it runs, so importing
`mmtop.store` imports none of them. `import_runs` is the one entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import ImportError_, ImportReport, SourceRun

if TYPE_CHECKING:
    from .target import import_runs

SOURCES = ("mlflow", "tensorboard", "wandb")

__all__ = ["SOURCES", "ImportError_", "ImportReport", "SourceRun", "import_runs"]


def __getattr__(name: str) -> object:
    if name == "import_runs":
        from .target import import_runs

        return import_runs
    raise AttributeError(f"module 'mmtop.store.importers' has no attribute {name!r}")
