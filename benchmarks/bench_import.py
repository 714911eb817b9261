"""`mmtop import mlflow` from an MLflow SQLite store: 200 runs x 5 metrics x 1,000 steps.

The database is created by MLflow (`MlflowClient`, so its own migrations lay out the schema)
and then filled with sqlite3 `executemany`, as MLflow's own writes would take minutes for a
million points. Reports the import's seconds and points/s (budget: >= 500k points/s), and,
for scale, a bare read of the same rows (`SELECT ... ORDER BY key, step, timestamp` per run
into Python, nothing written). Each figure is the median of `--repeat` imports into fresh
stores.

    python benchmarks/bench_import.py [--runs 200] [--metrics 5] [--steps 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from mmtop.store.importers.target import import_runs


def make_db(path: Path, runs: int, metrics: int, steps: int) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    exp = client.create_experiment("bench")
    with sqlite3.connect(path) as db:
        rng = random.Random(0)
        t0 = 1_790_000_000_000
        for r in range(runs):
            run_id = f"{r:032x}"
            db.execute(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
                " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
                " artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', 'bench',"
                " 'FINISHED', ?, ?, '', 'active', '', ?)",
                (run_id, f"run-{r}", t0 + r * 1000, t0 + r * 1000 + steps * 10, int(exp)),
            )
            db.executemany(
                "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                [("lr", str(10 ** -rng.randint(1, 5)), run_id), ("seed", str(r), run_id)],
            )
            db.executemany(
                "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
                " VALUES (?, ?, ?, ?, ?, 0)",
                (
                    (f"m{k}/loss", math.exp(-s / 300) + rng.random() * 0.01, t0 + s * 10, run_id, s)
                    for k in range(metrics)
                    for s in range(steps)
                ),
            )


def bare_read(path: Path) -> float:
    start = time.perf_counter()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    ids = [r[0] for r in db.execute("SELECT run_uuid FROM runs")]
    for run_id in ids:
        db.execute(
            "SELECT key, step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? "
            "ORDER BY key, step, timestamp",
            (run_id,),
        ).fetchall()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--metrics", type=int, default=5)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    points = args.runs * args.metrics * args.steps
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        db = work / "mlflow.db"
        t = time.perf_counter()
        make_db(db, args.runs, args.metrics, args.steps)
        print(f"source: {args.runs} runs, {points:,} points ({time.perf_counter() - t:.1f} s)")
        times, bare = [], []
        for i in range(args.repeat):
            bare.append(bare_read(db))
            root = work / f"store{i}"
            t = time.perf_counter()
            report = import_runs("mlflow", f"sqlite:///{db}", root)
            times.append(time.perf_counter() - t)
            assert report.points == points and not report.problems, report.problems
        took, base = statistics.median(times), statistics.median(bare)
        print(f"import:    {took:.2f} s, {points / took:,.0f} points/s (budget >= 500,000)")
        print(
            f"bare read: {base:.2f} s, {points / base:,.0f} points/s; import / bare = "
            f"{took / base:.1f}x"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
