"""Prediction logging from serving code: `store.monitor(name, target=...)`.

`log` converts each call to an Arrow table at once (bad input fails in the caller, with the
argument named) and appends it to a buffer; a background thread writes the buffer every
`flush_every` seconds as one immutable Parquet part per writer (store/parts.py, the same
writer and checksums as a run's metrics). A `kill -9` loses at most the calls since the last
flush; several serving processes log one target at once, each with its own writer id.
"""

from __future__ import annotations

import atexit
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import first_line
from ..ids import new_writer_id
from ..parts import PartWriter
from ..registry import layout as reg_layout
from . import calls, layout
from .inputs import as_class, as_series

# Above this many buffered rows a call flushes at once instead of waiting for the thread.
MAX_BUFFERED_ROWS = 1_000_000
# Unwritten rows kept while writes fail (a full disk); the oldest are dropped beyond it.
MAX_PENDING_ROWS = 5_000_000


class _Stream:
    """Buffered calls of one kind (predictions or labels) and the parts they become."""

    def __init__(self, folder: Path, writer: str, convert: Callable[[list[Any]], pl.DataFrame]):
        self.parts = PartWriter(folder, writer, layout.PARQUET_OPTIONS)
        self.convert = convert
        self.calls: list[Any] = []
        self.rows = 0
        self.written = 0
        self.dropped = 0

    def add(self, call: Any, rows: int) -> None:
        self.calls.append(call)  # one list append: atomic under the GIL
        self.rows += rows

    def write(self) -> None:
        """Write every buffered call as one part; on failure they stay for the next try."""
        n = len(self.calls)
        if n == 0:
            return
        merged = self.convert(self.calls[:n])
        try:
            self.parts.write(merged.to_arrow())
        except BaseException:
            self._bound()
            raise
        del self.calls[:n]
        self.rows -= merged.height
        self.written += merged.height

    def _bound(self) -> None:
        while self.rows > MAX_PENDING_ROWS and len(self.calls) > 1:
            old = self.convert(self.calls[:1]).height
            del self.calls[0]
            self.rows -= old
            self.dropped += old


class PredictionLogger:
    """Logs the predictions (and, later, the labels) of one model version at one target."""

    def __init__(
        self,
        root: Path,
        name: str,
        target: str,
        version: int,
        classification: bool | None,
        flush_every: float = 1.0,
        classes: list[str] | None = None,
    ) -> None:
        self.root = root
        self.name = name
        self.target = target
        self.version = version
        self.writer_id = new_writer_id()
        self.flush_every = flush_every
        self._classification = classification
        self._classes = classes
        self._predictions = _Stream(
            layout.predictions_dir(root, name, target), self.writer_id, self._frame
        )
        self._labels = _Stream(
            layout.labels_dir(root, name, target),
            self.writer_id,
            lambda frames: pl.concat(frames, how="diagonal_relaxed"),
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self.on_close: Callable[[], None] | None = None  # after the last flush
        self._failing = False
        self._thread = threading.Thread(
            target=self._background, name=f"mmtop-monitor-{name}", daemon=True
        )
        self._thread.start()
        # A serving process that exits normally writes what is buffered.
        ref = weakref.ref(self)
        atexit.register(lambda: (lambda m: m.close() if m is not None else None)(ref()))

    def __repr__(self) -> str:
        return f"PredictionLogger({self.name}/{self.version} at {self.target})"

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- logging
    def log(
        self,
        inputs: Any,
        predictions: Any,
        probabilities: Any = None,
        ids: Any = None,
        latency_ms: Any = None,
        time: Any = None,
    ) -> None:
        """Log a batch: `inputs` (polars/pandas frame, dict of columns, 2-D array or rows),
        one prediction per row, optionally class probabilities (n x classes, columns in
        the model's class order, or a frame), ids (to join labels later), latency in ms
        (one number or one per row) and the time (default now; a datetime or one per row)."""
        self._check_open()
        call = calls.check(inputs, predictions, probabilities, ids, latency_ms, time)
        if self._classification is None:
            self._typed(as_series(call.predictions[:0], layout.PREDICTION))
        self._predictions.add(call, call.rows)
        if self._predictions.rows > MAX_BUFFERED_ROWS:
            self.flush()

    def log_labels(self, ids: Any, labels: Any, time: Any = None) -> None:
        """Ground truth arriving later, by the ids given to `log`."""
        self._check_open()
        id_col = as_series(ids, layout.ID).cast(pl.String)
        label = as_series(labels, layout.LABEL)
        if id_col.len() != label.len():
            raise ValueError(f"log_labels: {id_col.len()} ids but {label.len()} labels")
        if id_col.null_count():
            raise ValueError("log_labels: ids must not be null")
        label = self._typed(label)
        when = calls.times(calls.check_time(time, label.len(), "log_labels"), label.len())
        self._labels.add(pl.DataFrame([when, id_col, label]), label.len())

    # ----------------------------------------------------------------- writing
    def flush(self) -> None:
        """Write what is buffered now; raises when the write fails (nothing is lost)."""
        with self._lock:
            self._predictions.write()
            self._labels.write()

    def close(self) -> None:
        """Flush and stop the background thread; further `log` calls raise."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self.flush()
        if self.on_close is not None:
            self.on_close()

    @property
    def rows_written(self) -> int:
        return self._predictions.written

    def _background(self) -> None:
        while not self._stop.wait(self.flush_every):
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - retried next tick; serving goes on
                if not self._failing:
                    print(
                        f"mmtop store: writing predictions of {self.name} failed "
                        f"({first_line(exc)}); they stay in memory and writes are retried",
                        file=sys.stderr,
                    )
                self._failing = True
                continue
            self._failing = False

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")

    def _typed(self, values: pl.Series) -> pl.Series:
        if self._classification is None:
            self._classification = not values.dtype.is_float()
        if self._classification:
            return as_class(values)
        try:
            return values.cast(pl.Float64)
        except pl.exceptions.InvalidOperationError:
            raise ValueError(
                f"{values.name}: {self.name} is a regression model: values must be numbers"
            ) from None

    def _frame(self, buffered: list[calls.Call]) -> pl.DataFrame:
        return calls.to_frame(buffered, self.version, self._typed, self._classes)


def monitor(
    name: str,
    target: str = "prod",
    *,
    root: str | Path | None = None,
    version: int | None = None,
    flush_every: float = 1.0,
) -> PredictionLogger:
    """A prediction logger for model `name` at `target`; the version is the one deployed
    there (recorded with `Store.deploy`) unless given."""
    import os

    from ..paths import ROOT_ENV, default_root, local_root
    from ..registry.catalog import Catalog
    from ..run_args import object_root

    url = object_root(os.fspath(root) if root is not None else os.environ.get(ROOT_ENV, ""))
    if url is not None:  # staged locally, pushed to the object store (store/s3/)
        from ..s3.prediction_push import monitor as monitor_s3

        return monitor_s3(url, name, target, version, flush_every)
    base = local_root(root) if root is not None else default_root()
    reg_layout.check_model_name(name)
    reg_layout.check_target(target)
    catalog = Catalog(base)
    if version is None:
        found = catalog.log(name).state().deployments.get(target)
        if found is None:
            raise ValueError(
                f"nothing of {name!r} is deployed at {target!r}: deploy a version first "
                "(Store.deploy) or pass version="
            )
        version = found
    mv = catalog.version(name, reg_layout.check_version(version))
    from .baseline import read

    base_doc = read(mv.path)
    task = base_doc.get("task") if base_doc else None
    classification = None if task is None else task == "classification"
    if flush_every <= 0:
        raise ValueError("flush_every must be > 0 seconds")
    classes = base_doc.get("classes") if base_doc else None
    return PredictionLogger(base, name, target, version, classification, flush_every, classes)
