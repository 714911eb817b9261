"""`mmtop import wandb` of W&B offline runs: seconds and points/s.

The runs are logged by the real wandb in offline mode (in a child process, so its service
ends with it): `--runs` runs of `--rows` history rows of `--keys` floats each. Reports the
median of `--repeat` imports into fresh stores and, for scale, a bare read of the same files
(the framing and one protobuf parse per record, nothing decoded further or written).

    python benchmarks/bench_import_wandb.py [--runs 4] [--rows 5000] [--keys 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mmtop.store.importers.target import import_runs
from mmtop.store.importers.wandb_log import read_records
from mmtop.store.importers.wandb_proto import record_class

LOG = """
import sys, wandb
runs, rows, keys = map(int, sys.argv[1:])
for r in range(runs):
    run = wandb.init(project="bench", name=f"run-{r}", config={"seed": r, "lr": 10.0 ** -r})
    for s in range(rows):
        run.log({f"m{k}/loss": 1.0 / (s + k + 1) for k in range(keys)})
    run.finish()
"""


def make_runs(work: Path, runs: int, rows: int, keys: int) -> Path:
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(work),
        "WANDB_SILENT": "true",
        "WANDB_CONFIG_DIR": str(work / "config"),
        "WANDB_CACHE_DIR": str(work / "cache"),
        "WANDB_DATA_DIR": str(work / "data"),
    }
    argv = [sys.executable, "-c", LOG, str(runs), str(rows), str(keys)]
    subprocess.run(argv, env=env, cwd=work, check=True)
    return work / "wandb"


def bare_read(folder: Path) -> float:
    record = record_class()
    start = time.perf_counter()
    for path in sorted(folder.glob("offline-run-*/run-*.wandb")):
        for raw in read_records(path.read_bytes()).records:
            record.FromString(raw)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--keys", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    points = args.runs * args.rows * args.keys
    work = Path(tempfile.mkdtemp(prefix="bench-import-wandb-"))
    try:
        t = time.perf_counter()
        folder = make_runs(work, args.runs, args.rows, args.keys)
        size = sum(p.stat().st_size for p in folder.glob("offline-run-*/run-*.wandb"))
        print(
            f"source: {args.runs} runs, {points:,} points, {size / 2**20:.1f} MiB of .wandb "
            f"(logged by wandb in {time.perf_counter() - t:.1f} s)"
        )
        times, cpu, bare = [], [], []
        for i in range(args.repeat):
            bare.append(bare_read(folder))
            t, c = time.perf_counter(), time.process_time()
            report = import_runs("wandb", str(folder), work / f"store{i}")
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            assert report.points == points and not report.problems, report.problems
        took, base = statistics.median(times), statistics.median(bare)
        used = statistics.median(cpu)
        print(
            f"import:    {took:.2f} s, {points / took:,.0f} points/s "
            f"(CPU {used:.2f} s, the steadier figure on a shared box)"
        )
        print(
            f"bare read: {base:.2f} s, {points / base:,.0f} points/s; import / bare = "
            f"{took / base:.1f}x"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
