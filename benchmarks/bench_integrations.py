"""Lightning training-step overhead of MmtopLogger, against no logger and Lightning's CSVLogger.

The same small MLP trains `--steps` steps (batch 32, one `self.log` per step,
log_every_n_steps=1, no checkpointing, no validation) with logger=False, CSVLogger and
MmtopLogger (system sampling on, as by default), interleaved `--repeat` times; the best fit
time of each is reported, and the ratios to no logger (budget: MmtopLogger within 5% at
1,000 logged steps).

    python benchmarks/bench_integrations.py [--steps 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.loggers import CSVLogger
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from mmtop import store
from mmtop.store.integrations.lightning import MmtopLogger


class MLP(L.LightningModule):  # type: ignore[misc,name-defined]
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 2))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss: torch.Tensor = nn.functional.cross_entropy(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.05)


def fit(steps: int, logger: Any) -> float:
    torch.manual_seed(0)
    data = DataLoader(
        TensorDataset(torch.randn(steps * 32, 16), torch.randint(0, 2, (steps * 32,))),
        batch_size=32,
    )
    trainer = L.Trainer(
        max_steps=steps,
        logger=logger,
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        limit_val_batches=0,
    )
    start = time.perf_counter()
    trainer.fit(MLP(), data)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("lightning").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fit(50, False)  # warm-up: imports, first-call costs
        for rep in range(args.repeat):
            loggers: dict[str, Any] = {
                "no logger": False,
                "CSVLogger": CSVLogger(Path(tmp) / "csv", name=f"r{rep}"),
                "MmtopLogger": MmtopLogger(experiment=f"r{rep}", root=Path(tmp) / "mmruns"),
            }
            for name, logger in loggers.items():
                seconds = fit(args.steps, logger)
                best[name] = min(best.get(name, seconds), seconds)
        run = store.open(Path(tmp) / "mmruns").runs()
        points = int(run.height)
    base = best["no logger"]
    print(f"{args.steps} steps, best of {args.repeat} ({points} mmtop runs written)")
    for name, seconds in best.items():
        print(f"  {name:12s} {seconds:7.3f} s  {seconds / base:5.3f}x no logger")


if __name__ == "__main__":
    main()
