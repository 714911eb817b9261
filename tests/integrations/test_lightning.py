"""MmtopLogger with the real Lightning: the documented example trains a small MLP for 2 epochs
on CPU, and the store holds exactly what Lightning logged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmtop import store

pytest.importorskip("torch", reason="Lightning tests need torch (CI installs the CPU build)")
L = pytest.importorskip("lightning", reason="the lightning extra is not installed")

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from mmtop.store.integrations.lightning import MmtopLogger  # noqa: E402

from .conftest import RunSnippet  # noqa: E402

QUIET: dict[str, Any] = dict(
    accelerator="cpu", enable_progress_bar=False, enable_model_summary=False, log_every_n_steps=1
)


def _only_run(root: Path) -> store.RunInfo:
    s = store.open(root, cache=False)
    (run_id,) = s.runs()["run_id"].to_list()
    return s.run(run_id)


def _steps(run: store.RunInfo) -> dict[str, list[int]]:
    h = run.history()
    return {k: h.filter(h["key"] == k)["step"].to_list() for k in sorted(set(h["key"]))}


def test_the_documented_example_logs_params_metrics_checkpoint_and_model(
    run_snippet: RunSnippet, store_root: Path
) -> None:
    g = run_snippet("lightning")
    trainer, logger = g["trainer"], g["trainer"].logger
    run = _only_run(store_root)

    assert (run.experiment, run.status, run.error) == ("lightning-demo", "finished", None)
    assert logger.version == run.run_id and logger.name == "lightning-demo"
    assert Path(logger.log_dir) == run.path and Path(logger.save_dir) == store_root
    assert run.params == {"hidden": 16, "lr": 0.1}
    # 64 samples in batches of 16: 4 steps an epoch; validation at the end of each epoch,
    # where Lightning logs `epoch` with the validation metrics as well.
    assert _steps(run) == {
        "epoch": [0, 1, 2, 3, 3, 4, 5, 6, 7, 7],
        "train/loss": [0, 1, 2, 3, 4, 5, 6, 7],
        "val/loss": [3, 7],
    }
    assert run.summary["val/loss"]["last"] == trainer.callback_metrics["val/loss"].item()
    checkpoint = trainer.checkpoint_callback
    assert Path(checkpoint.best_model_path).parent == run.path / "checkpoints"
    assert run.values == {"checkpoint/best_score": checkpoint.best_model_score.item()}

    version = store.open(store_root).model("classifier/1")
    assert version.manifest["tags"] == {"checkpoint": Path(checkpoint.best_model_path).name}
    assert version.manifest["lineage"]["run_id"] == run.run_id
    assert version.manifest["load"]["init_kwargs"] == {"hidden": 16, "lr": 0.1}
    loaded = version.load(model=g["Classifier"]())
    saved = torch.load(checkpoint.best_model_path, weights_only=True)["state_dict"]
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in saved.items())

    # Logging after finalize (validate after fit) resumes the same run.
    trainer.validate(g["Classifier"](), g["data"])
    again = _only_run(store_root)
    assert again.status == "finished" and len(again.meta["resumed"]) == 1
    assert again.summary["val/loss"]["count"] == 3


class Exploding(L.LightningModule):  # type: ignore[misc,name-defined]
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(4, 1)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.current_epoch == 1 and batch_idx == 2:
            raise RuntimeError("loss went to the moon")
        loss: torch.Tensor = self.net(batch[0]).pow(2).mean()
        self.log("loss", loss)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_an_exception_mid_epoch_ends_the_run_failed_with_the_error(store_root: Path) -> None:
    data = DataLoader(TensorDataset(torch.randn(16, 4)), batch_size=4)
    trainer = L.Trainer(max_epochs=3, logger=MmtopLogger(experiment="boom"), **QUIET)
    with pytest.raises(RuntimeError, match="moon"):
        trainer.fit(Exploding(), data)
    run = _only_run(store_root)
    assert run.status == "failed"
    assert run.error is not None
    assert (run.error["type"], run.error["message"]) == ("RuntimeError", "loss went to the moon")
    assert "training_step" in run.error["traceback"]
    assert _steps(run)["loss"] == [0, 1, 2, 3, 4, 5]  # epoch 0, then two steps of epoch 1


def test_hyperparams_namespaces_and_objects_become_nested_json(store_root: Path) -> None:
    import argparse

    logger = MmtopLogger(experiment="hp", capture_system=False)
    logger.log_hyperparams(
        argparse.Namespace(
            lr=torch.tensor(0.5), opt=argparse.Namespace(name="sgd", layer=nn.ReLU), seed=None
        )
    )
    logger.finalize("success")
    assert _only_run(store_root).params == {
        "lr": 0.5,
        "opt": {"name": "sgd", "layer": "torch.nn.modules.activation.ReLU"},
        "seed": None,
    }


def test_only_global_rank_zero_writes(store_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lightning.pytorch.utilities import rank_zero_only

    monkeypatch.setattr(rank_zero_only, "rank", 1)
    logger = MmtopLogger(experiment="ddp")
    logger.log_hyperparams({"lr": 1})
    logger.log_metrics({"loss": 1.0}, step=0)
    logger.finalize("success")
    assert logger.version is None and logger.log_dir is None
    assert not store_root.exists()


@pytest.mark.parametrize(("status", "ends"), [("success", "finished"), ("finished", "killed")])
def test_lightning_statuses_map_onto_ours(store_root: Path, status: str, ends: str) -> None:
    logger = MmtopLogger(experiment="statuses", capture_system=False, capture_env=False)
    logger.log_metrics({"loss": 2.0, "note": "text is left out"}, step=5)
    logger.finalize(status)
    run = _only_run(store_root)
    assert run.status == ends
    assert run.summary["loss"]["last_step"] == 5 and run.metric_keys == ["loss"]


def test_the_pytorch_lightning_import_name_gets_its_own_logger_class(store_root: Path) -> None:
    pl = pytest.importorskip("pytorch_lightning", reason="pytorch_lightning is not installed")
    from mmtop.store.integrations.pytorch_lightning import MmtopLogger as PLLogger

    assert issubclass(PLLogger, pl.loggers.Logger)
    assert not issubclass(PLLogger, L.pytorch.loggers.Logger)
    assert issubclass(MmtopLogger, L.pytorch.loggers.Logger)

    class Tiny(pl.LightningModule):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Linear(4, 1)

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            loss: torch.Tensor = self.net(batch[0]).pow(2).mean()
            self.log("loss", loss)
            return loss

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    trainer = pl.Trainer(
        max_steps=2, logger=PLLogger(experiment="pl"), enable_checkpointing=False, **QUIET
    )
    trainer.fit(Tiny(), DataLoader(TensorDataset(torch.randn(8, 4)), batch_size=4))
    run = _only_run(store_root)
    assert run.status == "finished" and _steps(run)["loss"] == [0, 1]


def test_log_checkpoint_copies_the_best_checkpoint_into_the_artifacts(store_root: Path) -> None:
    import hashlib

    from lightning.pytorch.callbacks import ModelCheckpoint

    class Tiny(Exploding):
        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            loss: torch.Tensor = self.net(batch[0]).pow(2).mean()
            self.log("loss", loss)
            return loss

    data = DataLoader(TensorDataset(torch.randn(8, 4)), batch_size=4)
    logger = MmtopLogger(experiment="ckpt", log_checkpoint=True, capture_system=False)
    checkpoint = ModelCheckpoint(monitor="loss", mode="min", save_top_k=1)
    L.Trainer(max_epochs=2, logger=logger, callbacks=[checkpoint], **QUIET).fit(Tiny(), data)
    run = _only_run(store_root)
    (artifact,) = run.artifacts
    best = Path(checkpoint.best_model_path)
    assert (artifact["name"], artifact["source"]) == ("best.ckpt", str(best.resolve()))
    assert artifact["sha256"] == hashlib.sha256(best.read_bytes()).hexdigest()
    score = checkpoint.best_model_score
    assert score is not None and run.values == {"checkpoint/best_score": score.item()}
