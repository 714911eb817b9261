"""How fast `run.log()` is: one run, 10 scalar keys per call, flush included.

Prints calls/s and points/s for several step counts, beside a bare pyarrow baseline that
writes the same points (long format, zstd Parquet) in the same process.

    python benchmarks/bench_log.py [--steps 20000 100000 200000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from mmtop import store

KEYS = [f"train/m{i}" for i in range(10)]


def bench_store(root: Path, steps: int) -> float:
    rng = random.Random(0)
    rows = [[rng.random() for _ in KEYS] for _ in range(1000)]
    t0 = time.perf_counter()
    with store.Run(experiment="bench", root=root, flush_every=2.0) as run:
        log = run.log
        for step in range(steps):
            vals = rows[step % 1000]
            log(dict(zip(KEYS, vals, strict=True)), step=step)
    return time.perf_counter() - t0


def bench_arrow(root: Path, steps: int) -> float:
    rng = random.Random(0)
    rows = [[rng.random() for _ in KEYS] for _ in range(1000)]
    t0 = time.perf_counter()
    step_col: list[int] = []
    time_col: list[float] = []
    key_col: list[str] = []
    val_col: list[float] = []
    for step in range(steps):
        now = time.time()
        for key, value in zip(KEYS, rows[step % 1000], strict=True):
            step_col.append(step)
            time_col.append(now)
            key_col.append(key)
            val_col.append(value)
    table = pa.table(
        {
            "step": pa.array(step_col, pa.int64()),
            "time": pa.array([int(t * 1e6) for t in time_col], pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "key": pa.array(key_col).dictionary_encode(),
            "value": pa.array(val_col, pa.float64()),
        }
    )
    pq.write_table(table, root / "bare.parquet", compression="zstd")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[20_000, 200_000, 1_000_000])
    args = parser.parse_args()
    print(
        f"{'steps':>8} {'log() calls/s':>14} {'points/s':>12} "
        f"{'bare arrow calls/s':>19} {'ratio':>6}"
    )
    for steps in args.steps:
        tmp = Path(tempfile.mkdtemp(prefix="mmtop-bench-"))
        try:
            elapsed = bench_store(tmp / "store", steps)
            bare = bench_arrow(tmp, steps)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        calls = steps / elapsed
        print(
            f"{steps:>8} {calls:>14,.0f} {calls * len(KEYS):>12,.0f} "
            f"{steps / bare:>19,.0f} {bare / elapsed:>6.2f}"
        )


if __name__ == "__main__":
    main()
