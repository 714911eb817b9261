"""`MmtopLogger` for Lightning, built on whichever package the user trains with:
`lightning.pytorch` and `pytorch_lightning` each have their own `Logger` base class."""

from __future__ import annotations

import copy
import importlib
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..lifecycle import error_info
from ._common import plain_params, scalars

# Lightning's finalize statuses: `success` (fit/validate/test ended), `failed` (an exception;
# it is being handled while finalize runs), `finished` (SLURM's requeue signal: the job stops
# here after saving a checkpoint and goes on in a requeued one, so it ends `killed`, which
# `resume` continues, not `finished`).
STATUSES = {"success": "finished", "failed": "failed", "finished": "killed"}

_BUILT: dict[str, type] = {}


def logger_class(package: str) -> type:
    """The `MmtopLogger` class for `package` ("lightning.pytorch" or "pytorch_lightning")."""
    if package not in _BUILT:
        _BUILT[package] = _build(package)
    return _BUILT[package]


def _build(package: str) -> type:
    loggers = importlib.import_module(f"{package}.loggers")
    rank_zero = importlib.import_module(f"{package}.utilities.rank_zero")
    fabric_logger = importlib.import_module(
        "lightning.fabric.loggers.logger"
        if package.startswith("lightning")
        else "lightning_fabric.loggers.logger"
    )
    rank_zero_only = rank_zero.rank_zero_only
    rank_zero_experiment = fabric_logger.rank_zero_experiment

    class MmtopLogger(loggers.Logger):  # type: ignore[misc,name-defined]
        """Log a Lightning run to mmtop: `Trainer(logger=MmtopLogger(experiment="mnist"))`.

        Only global rank 0 writes, as with Lightning's own loggers: under DDP the run is one
        run. `version` is the run id; checkpoints go to `<run folder>/checkpoints` unless the
        ModelCheckpoint has a `dirpath`. At the end of a successful fit the best checkpoint
        is copied into the run's artifacts (`log_checkpoint=True`) and registered as the next
        version of `register_model` (weights read from it without pickle, into a copy of the
        module). Other keyword arguments go to `store.Run`.
        """

        LOGGER_JOIN_CHAR = "-"

        def __init__(
            self,
            experiment: str | None = None,
            name: str | None = None,
            root: str | os.PathLike[str] | None = None,
            run_id: str | None = None,
            tags: Iterable[str] | None = None,
            prefix: str = "",
            log_checkpoint: bool = False,
            register_model: str | None = None,
            model_aliases: Iterable[str] = (),
            **run_kwargs: Any,
        ) -> None:
            super().__init__()
            from .. import paths

            self._experiment_name = experiment or "default"
            self._run_name = name
            # An s3:// root (argument or $MMTOP_DIR) goes to store.Run as it is, as
            # store.init passes it.
            given = root if root is not None else os.environ.get(paths.ROOT_ENV)
            remote = paths.object_root(given)
            self._root: Path | str = (
                remote
                if remote is not None
                else (paths.local_root(root) if root is not None else paths.default_root())
            )
            self._run_id = run_id
            self._tags = list(tags or [])
            self._prefix = prefix
            self._log_checkpoint = log_checkpoint
            self._register_model = register_model
            self._model_aliases = list(model_aliases)
            self._run_kwargs = run_kwargs
            self._run: Any = None
            self._ended = False
            self._module: Any = None
            self._checkpoint: Any = None

        # ----------------------------------------------------------- the run
        @property
        @rank_zero_experiment  # type: ignore[untyped-decorator]
        def experiment(self) -> Any:
            """The `store.Run` (global rank 0; a dummy elsewhere), created on first use and
            resumed when Lightning logs again after `finalize` (fit, then test)."""
            from ..writer import Run

            if self._run is None:
                self._run = Run(
                    experiment=self._experiment_name,
                    name=self._run_name,
                    root=self._root,
                    run_id=self._run_id,
                    tags=self._tags,
                    world_size=1,  # rank 0 alone writes it
                    **self._run_kwargs,
                )
                self._run_id = self._run.run_id
            elif self._ended:
                self._run = Run(
                    root=self._root,
                    run_id=self._run_id,
                    resume=True,
                    world_size=1,
                    **self._run_kwargs,
                )
                self._ended = False
            return self._run

        @property
        def name(self) -> str:
            return self._experiment_name

        @property
        def version(self) -> str | None:
            if self._run_id is None and rank_zero_only.rank == 0:
                _ = self.experiment
            return self._run_id

        @property
        def save_dir(self) -> str:
            return str(self._root)

        @property
        def root_dir(self) -> str:
            if isinstance(self._root, str):
                return f"{self._root}/{self._experiment_name}"
            return str(self._root / self._experiment_name)

        @property
        def log_dir(self) -> str | None:
            """The run's folder (rank 0); checkpoints go to its `checkpoints/`."""
            if rank_zero_only.rank != 0:
                return None
            return str(self.experiment.path)

        # ----------------------------------------------------------- logging
        @rank_zero_only  # type: ignore[untyped-decorator]
        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            if params is None:
                return
            plain = plain_params(params)
            if plain:
                self.experiment.log_params(plain)

        @rank_zero_only  # type: ignore[untyped-decorator]
        def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
            values = scalars(metrics)
            if self._prefix:
                values = {f"{self._prefix}{self.LOGGER_JOIN_CHAR}{k}": v for k, v in values.items()}
            if values:
                run = self._run if self._run is not None and not self._ended else self.experiment
                run.log(values, step=step)

        def log_graph(self, model: Any, input_array: Any = None) -> None:
            # Lightning hands every logger the module at fit start: kept to register the
            # best checkpoint's weights into a copy of it.
            self._module = model

        def save(self) -> None:
            # Called after every log_metrics: the run's background thread writes points.
            pass

        def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
            self._checkpoint = checkpoint_callback
            score = getattr(checkpoint_callback, "best_model_score", None)
            if score is not None and getattr(checkpoint_callback, "monitor", None):
                self.experiment.summary["checkpoint/best_score"] = float(score)

        @rank_zero_only  # type: ignore[untyped-decorator]
        def finalize(self, status: str) -> None:
            if self._run is None or self._ended:
                return
            final = STATUSES.get(status, "failed")
            error = None
            if final == "failed":
                handled = sys.exc_info()[1]
                error = (
                    error_info(handled)
                    if handled is not None
                    else {
                        "type": "Lightning",
                        "message": f"training ended {status}",
                        "traceback": "",
                    }
                )
            elif final == "killed":
                error = {"type": "Requeued", "message": "SLURM requeue signal", "traceback": ""}
            try:
                if final == "finished":
                    self._log_best_checkpoint()
            finally:
                self._ended = True
                self._run.finish(final, error)

        def _log_best_checkpoint(self) -> None:
            best = getattr(self._checkpoint, "best_model_path", "") if self._checkpoint else ""
            if not best or not Path(best).is_file():
                return
            if self._log_checkpoint:
                self._run.log_artifact(best, name="best.ckpt")
            if self._register_model and self._module is not None:
                self._run.log_model(
                    _module_with_weights(self._module, best),
                    self._register_model,
                    aliases=self._model_aliases,
                    tags={"checkpoint": Path(best).name},
                    init_kwargs=_init_kwargs(self._module),
                )

    MmtopLogger.__module__ = (
        "mmtop.store.integrations.lightning"
        if package.startswith("lightning")
        else "mmtop.store.integrations.pytorch_lightning"
    )
    return MmtopLogger


def _module_with_weights(module: Any, checkpoint: str) -> Any:
    """A CPU copy of `module` holding the weights saved in `checkpoint`, read with
    `weights_only=True` (tensors and plain values only; nothing else is unpickled)."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    trainer = getattr(module, "_trainer", None)
    module._trainer = None  # a module's copy must not drag its trainer along
    try:
        clone = copy.deepcopy(module).cpu()
    finally:
        module._trainer = trainer
    clone.load_state_dict(state)
    return clone


def _init_kwargs(module: Any) -> dict[str, Any] | None:
    """The module's `save_hyperparameters()` arguments, when they are plain JSON: the
    registry rebuilds the class with them."""
    found = getattr(module, "hparams_initial", None)
    if not found:
        return None
    hparams = dict(found)
    return hparams if plain_params(hparams) == hparams else None
