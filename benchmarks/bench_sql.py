"""`mmtop sql` over millions of points, beside a bare polars scan of the same Parquet parts.

Writes RUNS runs of KEYS keys x STEPS steps with store.Run once (in two experiments), then
times, each in a fresh process, the best `val/acc` per run of one experiment:

- `mmtop sql "SELECT run_id, max(value) ... FROM metrics WHERE key = 'val/acc' AND
  experiment = 'exp0' GROUP BY run_id"`
- a bare `pl.scan_parquet('<root>/exp0/*/metrics/*.parquet')` doing the same (run id from the
  path), which knows nothing of compacted parts.

    python benchmarks/bench_sql.py [--runs 40] [--steps 50000] [--keys 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERY = (
    "SELECT run_id, max(value) AS best FROM metrics "
    "WHERE key = 'val/acc' AND experiment = 'exp0' GROUP BY run_id ORDER BY best DESC"
)
BARE = """
import sys, time
t0 = time.perf_counter()
import polars as pl
df = (
    pl.scan_parquet(sys.argv[1] + "/exp0/*/metrics/*.parquet", include_file_paths="f")
    .filter(pl.col("key").cast(pl.String) == "val/acc")
    .group_by(pl.col("f").str.split("/").list.get(-3).alias("run_id"))
    .agg(best=pl.col("value").max())
    .sort("best", descending=True)
    .collect(engine="streaming")
)
print(time.perf_counter() - t0, df.height)
"""


def generate(root: Path, runs: int, steps: int, keys: int) -> int:
    import random

    from mmtop import store

    rng = random.Random(0)
    names = ["val/acc"] + [f"train/k{i}" for i in range(keys - 1)]
    for i in range(runs):
        with store.Run(
            experiment=f"exp{i % 2}",
            root=root,
            capture_env=False,
            capture_code=False,
            capture_system=False,
        ) as run:
            for step in range(steps):
                run.log({k: rng.random() for k in names}, step=step)
    return runs * steps * keys


def timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--keys", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mmtop-bench-sql"))
    args = parser.parse_args()
    root = args.dir / f"r{args.runs}-s{args.steps}-k{args.keys}"
    points = args.runs * args.steps * args.keys
    if not (root / "mmtop-store.json").exists():
        t0 = time.perf_counter()
        generate(root, args.runs, args.steps, args.keys)
        print(f"wrote {points:,} points in {time.perf_counter() - t0:.1f} s under {root}")
    mmtop = [sys.executable, "-m", "mmtop.tui.cli", "sql", QUERY, "--root", str(root)]
    bare = [sys.executable, "-c", BARE, str(root)]
    timed(mmtop)  # warm the runs cache and the page cache
    sql = min(timed(mmtop) for _ in range(3))
    plain = min(timed(bare) for _ in range(3))
    print(
        f"{points:,} points ({args.runs} runs): mmtop sql best val/acc per run of exp0 "
        f"{sql:.2f} s (process); bare polars scan {plain:.2f} s (process); "
        f"ratio {sql / plain:.2f}"
    )


if __name__ == "__main__":
    main()
