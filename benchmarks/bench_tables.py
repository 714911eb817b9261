"""Costs of a run's logged tables: predictions (the issue's 1M inputs x 10 classes), confusion
matrices and generic frames, written and read back through `store.open(root)`.

Prints figures; asserts nothing. Run: python benchmarks/bench_tables.py [rows] [classes]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from mmtop import store


def best_s(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(k), size=n)
    y_true = rng.integers(0, k, size=n)
    y_pred = probs.argmax(axis=1)
    names = [f"class{j}" for j in range(k)]
    frame = pl.DataFrame({"id": np.arange(n), "loss": rng.random(n), "y": y_true})
    print(f"{n:,} inputs x {k} classes, best of 3")
    with tempfile.TemporaryDirectory() as folder:
        with store.Run(
            root=folder, capture_env=False, capture_code=False, capture_system=False
        ) as run:
            log = best_s(lambda: run.log_predictions(probs, y_true=y_true, class_names=names))
            print(f"log_predictions                  {log:8.2f} s")
            t = best_s(lambda: run.log_confusion_matrix(y_true, y_pred, labels=list(range(k))))
            print(f"log_confusion_matrix             {t:8.2f} s")
            t = best_s(lambda: run.log_table("per_input", frame))
            print(f"log_table ({n:,} rows x 3)    {t:8.2f} s")
        info = store.open(folder).run(run.run_id)
        t = best_s(info.predictions)
        print(f"read predictions                 {t:8.2f} s")
        t = best_s(info.confusion_matrix)
        print(f"read confusion matrix            {1000 * t:8.2f} ms")
        size = (run.path / "tables" / "predictions.val.parquet").stat().st_size
        print(f"predictions on disk              {size / 1e6:8.1f} MB ({size / n:.1f} B/input)")


if __name__ == "__main__":
    main()
