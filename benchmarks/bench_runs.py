"""Cost of a run's life and of its points on disk, and of reading histories back.

- create + finish one run (captures off), median of many;
- disk bytes per metric point for a realistic run (noisy curves, 10 keys x 20k steps);
- the full history of one metric for 50 runs, in process.

    python benchmarks/bench_runs.py
"""

from __future__ import annotations

import inspect
import math
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from mmtop import store

CAPTURES_OFF = {
    name: False
    for name in ("capture_env", "capture_code", "capture_system", "capture_console")
    if name in inspect.signature(store.Run).parameters
}
CAPTURES_ON = {k: True for k in CAPTURES_OFF if k != "capture_console"}


def create_finish(root: Path, n: int, captures: dict[str, bool]) -> float:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        run = store.Run(experiment="bench", name=f"r{i}", params={"lr": 0.1}, root=root, **captures)
        run.finish()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bytes_per_point(root: Path) -> float:
    rng = random.Random(1)
    keys = [f"train/k{i}" for i in range(10)]
    steps = 20_000
    with store.Run(experiment="disk", root=root, **CAPTURES_OFF) as run:
        for step in range(steps):
            base = math.exp(-step / 5000)
            run.log({k: base * (1 + i) + rng.gauss(0, 0.01) for i, k in enumerate(keys)}, step=step)
    size = sum(p.stat().st_size for p in (run.path / "metrics").glob("*.parquet"))
    return size / (steps * len(keys))


def history_50(root: Path) -> float:
    rng = random.Random(2)
    ids = []
    for _ in range(50):
        with store.Run(experiment="hist", root=root, **CAPTURES_OFF) as run:
            for step in range(1000):
                run.log({"val/acc": rng.random(), "train/loss": rng.random()}, step=step)
        ids.append(run.run_id)
    s = store.open(root)
    s.runs()
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        df = s.history(ids, keys=["val/acc"])
        times.append(time.perf_counter() - t0)
    assert df.height == 50 * 1000
    return statistics.median(times)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="mmtop-bench-"))
    try:
        off = create_finish(tmp / "a", 200, CAPTURES_OFF)
        print(f"create + finish, captures off: {off * 1000:.2f} ms (median of 200; budget 5 ms)")
        if CAPTURES_ON:
            on = create_finish(tmp / "b", 50, CAPTURES_ON)
            print(f"create + finish, captures on:  {on * 1000:.2f} ms (median of 50)")
        print(f"disk per metric point: {bytes_per_point(tmp / 'c'):.2f} bytes (budget 12)")
        h = history_50(tmp / "d")
        print(f"history of one metric, 50 runs x 1000 steps: {h * 1000:.1f} ms (budget 20 ms)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
