"""Keras 3: `model.fit(..., callbacks=[MmtopCallback()])`, on any backend.

`MmtopCallback` is built on first use, so importing this module does not import Keras.
See docs/INTEGRATIONS.md.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._common import built_on_first_use, plain, scalars
from ._ending import UNFINISHED, end_at_exit

if TYPE_CHECKING:
    MmtopCallback: Any

SUMMARY_ARTIFACT = "model-summary.txt"


def _build() -> type:
    import keras

    class MmtopCallback(keras.callbacks.Callback):  # type: ignore[misc]
        """Log `fit` (and `evaluate`, passed the same callback) to mmtop.

        At train begin the run starts with `self.params` (epochs, steps, verbose) as
        `params.fit`, the model's name, parameter counts and optimizer config as
        `params.model`, and `model.summary()` as the artifact `model-summary.txt`. Epoch
        metrics (`loss`, `val_loss`, ...) are logged at step = epoch; batch metrics as
        `batch/<name>` at step = batches trained so far, every `batch_every`-th batch
        (0: none); `evaluate()` outside `fit` logs `test/<name>` at step = epochs trained.
        Train end ends the run `finished`; training that raises ends it `failed`. Keyword
        arguments go to `store.Run`.
        """

        def __init__(
            self,
            experiment: str | None = None,
            name: str | None = None,
            root: str | os.PathLike[str] | None = None,
            run_id: str | None = None,
            tags: Iterable[str] | None = None,
            batch_every: int = 10,
            **run_kwargs: Any,
        ) -> None:
            super().__init__()
            if type(batch_every) is not int or batch_every < 0:
                raise ValueError(f"batch_every must be an integer >= 0, got {batch_every!r}")
            self._experiment = experiment
            self._name = name
            self._root = root
            self._run_id = run_id
            self._tags = list(tags or [])
            self._run_kwargs = run_kwargs
            self.batch_every = batch_every
            self.run: Any = None
            self._open = False
            self._fitting = False
            self._batches = 0
            self._epochs = 0

        def end(self, status: str = "finished", error: dict[str, Any] | None = None) -> None:
            if self._open:
                self._open = False
                self.run.finish(status, error)

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            from ..writer import Run

            self.end("failed", UNFINISHED)
            self._fitting = True
            self._batches = 0
            self._epochs = 0
            self.run = Run(
                experiment=self._experiment,
                name=self._name,
                root=self._root,
                run_id=self._run_id,
                tags=self._tags,
                params={"fit": plain(self.params or {}), "model": _describe(self.model)},
                world_size=1,  # Keras' distribution runs the callbacks in one process
                **self._run_kwargs,
            )
            self._open = True
            end_at_exit(self)
            _log_summary(self.run, self.model)

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            self._batches += 1
            if self.batch_every and self._batches % self.batch_every == 0 and self._open:
                values = {f"batch/{k}": v for k, v in scalars(logs or {}).items()}
                if values:
                    self.run.log(values, step=self._batches)

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self._epochs = epoch + 1
            values = scalars(logs or {})
            if values and self._open:
                self.run.log(values, step=epoch)

        def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
            if self._fitting:
                return  # validation inside fit: its val_* numbers come with the epoch's
            values = {f"test/{k}": v for k, v in scalars(logs or {}).items()}
            if not values or self.run is None:
                return
            from ..writer import Run

            reopened = not self._open
            if reopened:
                self.run = Run(
                    root=self._root,
                    run_id=self.run.run_id,
                    resume=True,
                    world_size=1,
                    **self._run_kwargs,
                )
                self._open = True
            self.run.log(values, step=self._epochs)
            if reopened:
                self.end()

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            self._fitting = False
            self.end()

    MmtopCallback.__module__ = __name__
    return MmtopCallback


def _describe(model: Any) -> dict[str, Any]:
    if model is None:
        return {}
    out: dict[str, Any] = {"name": model.name, "class": type(model).__qualname__}
    try:
        out["params"] = int(model.count_params())
        out["trainable_params"] = sum(math.prod(w.shape) for w in model.trainable_weights)
    except ValueError:  # not built yet
        pass
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        out["optimizer"] = plain(optimizer.get_config())
    return out


def _log_summary(run: Any, model: Any) -> None:
    lines: list[str] = []
    try:
        model.summary(print_fn=lambda text, *args, **kwargs: lines.append(str(text)))
    except ValueError:  # a model that is not built has no summary yet
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / SUMMARY_ARTIFACT
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        run.log_artifact(path)


__getattr__ = built_on_first_use(__name__, "MmtopCallback", _build)
