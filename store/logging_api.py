"""The explicit logging calls of `store.Run` beyond scalars: tables, confusion matrices,
predictions, artifacts, datasets and notes. Each writes whole files into the run folder."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import artifacts, notes, tables

if TYPE_CHECKING:
    from .registry import ModelVersion


class ExplicitLogging:
    """Mixed into `store.Run`; needs `self.path` (the run folder), `self.root` and `flush`."""

    path: Path
    root: Path

    def flush(self) -> None:
        raise NotImplementedError

    def log_table(self, name: str, data: Any, step: int | None = None) -> str:
        """Store a frame (polars, pyarrow, pandas) or dict of columns as tables/<name>.parquet."""
        if name.startswith((tables.CONFUSION_PREFIX, tables.PREDICTIONS_PREFIX)) or "@" in name:
            raise ValueError(
                f"table name {name!r} is reserved: names starting with 'confusion.' or "
                "'predictions.', or holding '@', belong to typed tables"
            )
        full = tables.table_name("", name, step)
        tables.write_table(self.path, full, tables.to_arrow(data), {"kind": "table", "step": step})
        return full

    def log_confusion_matrix(
        self,
        y_true: Any,
        y_pred: Any,
        labels: list[Any] | None = None,
        name: str = "val",
        step: int | None = None,
    ) -> str:
        """Count (true, predicted) pairs over `labels` (default: every value seen, sorted)."""
        table, names = tables.confusion_table(y_true, y_pred, labels)
        full = tables.table_name(tables.CONFUSION_PREFIX, name, step)
        meta = {"kind": "confusion_matrix", "labels": names, "step": step, "of": name}
        tables.write_table(self.path, full, table, meta)
        return full

    def log_predictions(
        self,
        probs: Any,
        y_true: Any = None,
        ids: Any = None,
        class_names: list[Any] | None = None,
        name: str = "val",
        step: int | None = None,
    ) -> str:
        """Per-input class probabilities (inputs x classes), with ids and true labels."""
        table, names = tables.predictions_table(probs, y_true, ids, class_names)
        full = tables.table_name(tables.PREDICTIONS_PREFIX, name, step)
        meta = {"kind": "predictions", "labels": names, "step": step, "of": name}
        tables.write_table(self.path, full, table, meta)
        return full

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None) -> dict[str, Any]:
        """Copy a file or folder into artifacts/, recording its size and sha256."""
        return artifacts.log_artifact(self.path, Path(path), name)

    def log_dataset(
        self,
        source: Any,
        name: str,
        uri: str | None = None,
        *,
        dataset: str | None = None,
        register: bool = True,
        key: str | Sequence[str] | None = None,
        labels: str | None = None,
        parent: str | None = None,
        snapshot: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Record what data the run used (a content fingerprint, rows, schema and uri) and
        register it as a version of dataset `dataset` (default: `name`, when it is a valid
        dataset name), reusing the version that holds the same content."""
        from .datasets import layout

        registry: dict[str, Any] | None = None
        target = dataset if dataset is not None else name
        if register and (dataset is not None or layout.is_registry_name(target)):
            layout.check_dataset_name(target)
            registry = {"name": target, "key": key, "snapshot": snapshot}
            if labels is not None or parent is not None:
                from .reader import open as open_store

                st = open_store(self.root, cache=False)
                registry["labels"] = st.pin(labels)
                registry["parent"] = st.pin(parent)
        return artifacts.log_dataset(self.path, source, name, uri, extra, registry)

    def note(self, text: str) -> None:
        """Append to the run's notes: issues met, how they were solved, evaluation."""
        notes.add_note(self.path, text)

    def log_model(
        self,
        model: Any,
        name: str,
        input_example: Any = None,
        aliases: Iterable[str] = (),
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        allow_pickle: bool = False,
        init_kwargs: Mapping[str, Any] | None = None,
        baseline: Any = None,
        baseline_y: Any = None,
        drift_thresholds: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> ModelVersion:
        """Register `model` (an estimator, a torch module, or a path to saved files) as the
        next version of `name`, with this run's params, metrics, data and code as lineage.

        `baseline` (validation inputs) and `baseline_y` (their labels, or the name of a label
        column) are profiled into the version for monitoring; without them, a table or dataset
        file the run logged as `baseline`, `validation` or `val` is used. `drift_thresholds`
        overrides {"psi": 0.2, "wasserstein": 0.1, "js": 0.1} for this version. `reason` says
        why a run started with `parent_model=` retrained its parent."""
        from .registry.catalog import Catalog
        from .registry.register import register

        self.flush()  # the summary in the lineage is the one at registration
        number = register(
            self.root,
            name,
            model,
            run=self.path,
            input_example=input_example,
            aliases=aliases,
            description=description,
            tags=tags,
            allow_pickle=allow_pickle,
            init_kwargs=init_kwargs,
            baseline=baseline,
            baseline_y=baseline_y,
            thresholds=dict(drift_thresholds) if drift_thresholds is not None else None,
            reason=reason,
        )
        return Catalog(self.root).version(name, number)
