"""Lightning training-step overhead of MmtopLogger, against no logger and Lightning's CSVLogger.

The same small MLP trains `--steps` steps (batch 32, one `self.log` per step,
log_every_n_steps=1, no checkpointing, no validation) with logger=False, a logger that keeps
nothing (Lightning's own cost of having a logger), CSVLogger and MmtopLogger (system sampling
on, as by default), interleaved `--repeat` times. The best CPU time (all threads of the
process; steadier than wall time on a shared box) and wall time of each are reported, with
their ratios to no logger (budget: MmtopLogger within 5% at 1,000 logged steps).

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
from lightning.pytorch.loggers import CSVLogger, Logger
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


class NullLogger(Logger):  # type: ignore[misc]
    """A logger that keeps nothing: what Lightning itself spends on having a logger."""

    name = "null"
    version = "0"

    def log_metrics(self, metrics: Any, step: Any = None) -> None:
        pass

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        pass


def fit(steps: int, logger: Any) -> tuple[float, float]:
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
    start, cpu = time.perf_counter(), time.process_time()
    trainer.fit(MLP(), data)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("lightning").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    best: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fit(50, False)  # warm-up: imports, first-call costs
        for rep in range(args.repeat):
            loggers: dict[str, Any] = {
                "no logger": False,
                "NullLogger": NullLogger(),
                "CSVLogger": CSVLogger(Path(tmp) / "csv", name=f"r{rep}"),
                "MmtopLogger": MmtopLogger(experiment=f"r{rep}", root=Path(tmp) / "mmruns"),
            }
            for name, logger in loggers.items():
                wall, cpu = fit(args.steps, logger)
                was = best.get(name, (wall, cpu))
                best[name] = (min(was[0], wall), min(was[1], cpu))
        run = store.open(Path(tmp) / "mmruns").runs()
        points = int(run.height)
    wall0, cpu0 = best["no logger"]
    print(f"{args.steps} steps, best of {args.repeat} ({points} mmtop runs written)")
    print("  CPU time of the process (all its threads; steadier on a shared box), then wall")
    for name, (wall, cpu) in best.items():
        ratios = f"cpu {cpu:7.3f} s {cpu / cpu0:5.3f}x   wall {wall:7.3f} s {wall / wall0:5.3f}x"
        print(f"  {name:12s} {ratios}")


if __name__ == "__main__":
    main()
