"""`mmtop import mlflow` from an MLflow SQLite store: 200 runs x 5 metrics x 1,000 steps.

The database is created by MLflow (`MlflowClient`, so its own migrations lay out the schema)
and then filled with sqlite3 `executemany`, as MLflow's own writes would take minutes for a
million points. Reports the import's seconds and points/s (budget: >= 500k points/s) with the
Arrow reader (`mmtop[mlflow]`, Apache Arrow's ADBC SQLite driver) and with the sqlite3
fallback, and, for scale, bare reads of the same rows, nothing written: sqlite3 (`SELECT ...
ORDER BY key, step, timestamp` per run into Python tuples) and the ADBC driver (the same per
run into Arrow tables). Each figure is the median of `--repeat` runs, imports into fresh
stores; the load average is printed before and after (the box is shared).

    python benchmarks/bench_import.py [--runs 200] [--metrics 5] [--steps 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from mmtop.store.importers import mlflow_arrow
from mmtop.store.importers.target import import_runs

QUERY = (
    "SELECT key, step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? "
    "ORDER BY key, step, timestamp"
)


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
        db.execute(QUERY, (run_id,)).fetchall()
    return time.perf_counter() - start


def bare_arrow_read(path: Path) -> float:
    import adbc_driver_sqlite.dbapi as adbc

    start = time.perf_counter()
    ids = [r[0] for r in sqlite3.connect(path).execute("SELECT run_uuid FROM runs")]
    with adbc.connect(f"file:{path}?mode=ro") as conn, conn.cursor() as cursor:
        for run_id in ids:
            cursor.execute(QUERY, (run_id,))
            cursor.fetch_arrow_table()
    return time.perf_counter() - start


def timed_import(db: Path, root: Path, points: int, arrow: bool, cpu: list[float]) -> float:
    real = mlflow_arrow.available
    mlflow_arrow.available = real if arrow else (lambda: False)  # type: ignore[assignment]
    try:
        start, used = time.perf_counter(), time.process_time()
        report = import_runs("mlflow", f"sqlite:///{db}", root)
        took = time.perf_counter() - start
        cpu.append(time.process_time() - used)  # both threads: steadier than wall on a busy box
    finally:
        mlflow_arrow.available = real  # type: ignore[assignment]
    assert report.points == points and not report.problems, report.problems
    return took


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


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
        print(load())
        arrow = mlflow_arrow.available()
        figures: dict[str, list[float]] = {
            k: [] for k in ("arrow", "sqlite3", "bare", "bare_arrow")
        }
        cpu: dict[str, list[float]] = {"arrow": [], "sqlite3": []}
        for i in range(args.repeat):
            figures["bare"].append(bare_read(db))
            figures["sqlite3"].append(
                timed_import(db, work / f"plain{i}", points, False, cpu["sqlite3"])
            )
            if arrow:
                figures["bare_arrow"].append(bare_arrow_read(db))
                figures["arrow"].append(
                    timed_import(db, work / f"arrow{i}", points, True, cpu["arrow"])
                )
        rows = [
            ("import, Arrow reader", "arrow"),
            ("import, sqlite3 reader", "sqlite3"),
            ("bare sqlite3 read", "bare"),
            ("bare ADBC read", "bare_arrow"),
        ]
        for label, key in rows:
            if not figures[key]:
                print(f"{label:24} not measured (pip install 'mmtop[mlflow]')")
                continue
            took = statistics.median(figures[key])
            budget = " (budget >= 500,000)" if key == "arrow" else ""
            used = f", CPU {statistics.median(cpu[key]):.2f} s" if key in cpu else ""
            print(f"{label:24} {took:6.2f} s, {points / took:>11,.0f} points/s{budget}{used}")
        print(load())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
