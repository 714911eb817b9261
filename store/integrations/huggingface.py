"""Hugging Face transformers: `Trainer(..., callbacks=[MmtopCallback()], report_to="none")`.

`MmtopCallback` is built on first use, so importing this module does not import transformers
(`report_to` only takes the names built into transformers, hence the callback and "none").
See docs/INTEGRATIONS.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._common import built_on_first_use, plain, scalars
from ._ending import UNFINISHED, end_at_exit

if TYPE_CHECKING:
    MmtopCallback: Any


def _build() -> type:
    from transformers import TrainerCallback

    class MmtopCallback(TrainerCallback):  # type: ignore[misc,unused-ignore]
        """Log a transformers Trainer to mmtop.

        On the world-zero process only: at train begin the run starts with the training
        arguments (`params.args`) and the model's config (`params.config`); every `on_log`
        (training loss, learning rate, grad norm, eval metrics, the final train_* figures)
        logs its numbers at `state.global_step`; `on_train_end` ends the run `finished`.
        Training that raises ends it `failed` (the traceback is kept when the exception
        goes uncaught). Logging after the end (`trainer.evaluate()` after `train()`) resumes
        the run. Keyword arguments go to `store.Run`.
        """

        def __init__(
            self,
            experiment: str | None = None,
            name: str | None = None,
            root: str | os.PathLike[str] | None = None,
            run_id: str | None = None,
            tags: Iterable[str] | None = None,
            **run_kwargs: Any,
        ) -> None:
            self._experiment = experiment
            self._name = name
            self._root = root
            self._run_id = run_id
            self._tags = list(tags or [])
            self._run_kwargs = run_kwargs
            self.run: Any = None
            self._open = False
            self._training = False

        def _start(self, args: Any, model: Any, resume: bool) -> None:
            from ..writer import Run

            if resume:
                self.run = Run(
                    root=self._root,
                    run_id=self.run.run_id,
                    resume=True,
                    world_size=1,
                    **self._run_kwargs,
                )
            else:
                params: dict[str, Any] = {"args": plain(args.to_dict())}
                config = getattr(model, "config", None)
                if config is not None and hasattr(config, "to_dict"):
                    params["config"] = plain(config.to_dict())
                self.run = Run(
                    experiment=self._experiment,
                    name=self._name,
                    root=self._root,
                    run_id=self._run_id,
                    tags=self._tags,
                    params=params,
                    world_size=1,  # the world-zero process alone writes it
                    **self._run_kwargs,
                )
            self._open = True
            end_at_exit(self)

        def end(self, status: str = "finished", error: dict[str, Any] | None = None) -> None:
            if self._open:
                self._open = False
                self.run.finish(status, error)

        def on_train_begin(
            self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any
        ) -> None:
            if not state.is_world_process_zero:
                return
            self.end("failed", UNFINISHED)
            self._start(args, model, resume=False)
            self._training = True

        def on_log(
            self,
            args: Any,
            state: Any,
            control: Any,
            logs: dict[str, Any] | None = None,
            model: Any = None,
            **kwargs: Any,
        ) -> None:
            if not state.is_world_process_zero:
                return
            values = scalars(logs or {})
            if not values:
                return
            if not self._open:
                self._start(args, model, resume=self.run is not None)
            self.run.log(values, step=state.global_step)

        def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            # Eval metrics reach on_log too (Trainer.evaluate logs them); a standalone
            # `evaluate()` ends its resumed run here.
            if state.is_world_process_zero and not self._training:
                self.end()

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.is_world_process_zero:
                self._training = False
                self.end()

    MmtopCallback.__module__ = __name__
    return MmtopCallback


__getattr__ = built_on_first_use(__name__, "MmtopCallback", _build)
