"""Opening a big store: `store.open(root).runs()` in a fresh process, cold and warm, beside a
bare orjson+polars read of the same files.

Also: 50 histories on a freshly opened store (no `runs()` first) against the same after
`runs()`, which knows every run's folder.

Generates N runs (20 params, 5 metrics x 200 steps each) once under a cache folder, writes the
run index (`mmtop compact`), then times fresh processes, bare and ours taken in turn
(`--repeat` pairs, median and min): cold (no `.mmtop/` cache, so the run index is read),
warm (cache present), and the bare read (run.json + params.json + summaries, parsed and put
in a frame). `--drop-caches` also empties the kernel's page, dentry and inode caches before
every cold and bare measurement (needs root; it slows everything else on the machine for a
moment); without it "cold" means no cache of mmtop's own, with the files in the page cache.
Child processes may write bytecode (as an installed package has it), whatever
PYTHONDONTWRITEBYTECODE says.

    nice python benchmarks/bench_open.py [--runs 10000] [--repeat 5] [--drop-caches]

`--warm-only` times warm opens alone on stores already generated under `--dir` (their run
index and `.mmtop/` cache kept; one untimed open first writes the cache if it is missing):
with another interpreter's mmtop (`--python`), the code before and after a change in turn.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLD_WARM = """
import sys, time
t0 = time.perf_counter()
from mmtop import store
df = store.open(sys.argv[1]).runs()
print(time.perf_counter() - t0, df.height)
"""

BARE = """
import sys, time, os
t0 = time.perf_counter()
try:
    import orjson as json  # the fastest parse there is, when installed (pip install orjson)
except ImportError:
    import json
import polars as pl
rows = []
root = sys.argv[1]
for exp in os.scandir(root):
    if not exp.is_dir() or exp.name.startswith(('.', '_')):
        continue
    for run in os.scandir(exp.path):
        with open(os.path.join(run.path, 'run.json'), 'rb') as f:
            meta = json.loads(f.read())
        with open(os.path.join(run.path, 'params.json'), 'rb') as f:
            params = json.loads(f.read())
        summary = {}
        for s in os.scandir(os.path.join(run.path, 'summary')):
            with open(s.path, 'rb') as f:
                summary.update(json.loads(f.read())['metrics'])
        rows.append({**meta, 'params': params,
                     'metrics': {k: v['last'] for k, v in summary.items()}})
df = pl.DataFrame(rows)
print(time.perf_counter() - t0, df.height)
"""

INDEX = """
import sys
from mmtop import store
store.compact(sys.argv[1])
"""

HISTORY = """
import sys, time
from mmtop import store
ids = sys.argv[2].split(",")
store.open(sys.argv[1]).history(ids[-1], keys=["m0"])  # imports, page cache: not measured
t0 = time.perf_counter()
h = store.open(sys.argv[1]).history(ids, keys=["m0"])
fresh = time.perf_counter() - t0
s = store.open(sys.argv[1])
s.runs()
t0 = time.perf_counter()
h2 = s.history(ids, keys=["m0"])
after = time.perf_counter() - t0
assert h.height == h2.height == len(ids) * 200, (h.height, h2.height)
print(fresh, after)
"""


def run_id(i: int) -> str:
    return f"20261127T{i // 3600 % 24:02d}{i // 60 % 60:02d}{i % 60:02d}Z-{i:06x}"


def generate(root: Path, n: int) -> None:
    """Write runs directly in the store format (fast), as the writer would leave them."""

    from mmtop.store import paths
    from mmtop.store.folders import ensure_store
    from mmtop.store.schema import RUN_SCHEMA_VERSION

    ensure_store(root)
    steps = 200
    keys = [f"m{i}" for i in range(5)]
    for i in range(n):
        exp = f"exp{i % 20}"
        d = root / exp / run_id(i)
        (d / "metrics").mkdir(parents=True)
        (d / "summary").mkdir()
        meta = {
            "schema_version": RUN_SCHEMA_VERSION,
            "run_id": run_id(i),
            "experiment": exp,
            "name": f"run-{i}",
            "status": "finished",
            "created": "2026-11-27T01:00:00+00:00",
            "ended": "2026-11-27T01:10:00+00:00",
            "host": "bench",
            "user": "bench",
            "pid": 1,
            "command": ["train.py"],
            "tags": ["bench"],
            "error": None,
        }
        (d / paths.RUN_JSON).write_text(json.dumps(meta))
        params = {f"p{j}": (i * 7 + j) % 13 * 0.1 for j in range(18)}
        params["model"] = {"kind": ["sgd", "adam"][i % 2], "depth": i % 5}
        (d / paths.PARAMS_JSON).write_text(json.dumps(params))
        (d / paths.HEARTBEAT).touch()
        metrics = {
            k: {
                "last": 0.5,
                "last_step": steps - 1,
                "last_time": 0.0,
                "min": 0.1,
                "max": 0.9,
                "count": steps,
            }
            for k in keys
        }
        summary = {"writer": "w0", "updated": 0, "metrics": metrics, "values": {}}
        (d / "summary" / "00000000.json").write_text(json.dumps(summary))
        if i < 200:  # parts for a sample only: the listing never reads them
            write_part(d / "metrics" / "00000000-000001.parquet", steps, keys)


def write_part(file: Path, steps: int, keys: list[str]) -> None:
    import datetime as dt

    import polars as pl

    pl.DataFrame(
        {
            "step": list(range(steps)) * len(keys),
            "time": [dt.datetime(2026, 11, 27, tzinfo=dt.UTC)] * (steps * len(keys)),
            "key": [k for k in keys for _ in range(steps)],
            "value": [0.5] * (steps * len(keys)),
        },
        schema={
            "step": pl.Int64,
            "time": pl.Datetime("us", "UTC"),
            "key": pl.String,
            "value": pl.Float64,
        },
    ).write_parquet(file, compression="zstd")


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def drop_caches() -> bool:
    """Empty the page, dentry and inode caches; False where this process may not."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError:
        return False
    return True


def warm_only(folder: Path, runs: list[int], repeat: int, pythons: list[str]) -> None:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}, {os.cpu_count()} cores")
    for n in runs:
        root = folder / f"runs-{n}"
        if not (root / "mmtop-store.json").exists():
            sys.exit(f"no store of {n} runs under {folder}: run without --warm-only first")
        if not (root / ".mmtop" / "runs-frame-v2.parquet").exists():
            # A cold open that the run index serves whole has nothing new to cache: one run
            # changed (its run.json's mtime, 10 s back) makes it write the cache.
            meta = root / "exp0" / run_id(0) / "run.json"
            os.utime(meta, (time.time() - 10, time.time() - 10))
        for python in pythons:
            timed(COLD_WARM, root, python=python)  # the cache, imports: not measured
        times: dict[str, list[float]] = {python: [] for python in pythons}
        for _ in range(repeat):  # in turn: a load spike hits every side alike
            for python in pythons:
                times[python].append(timed(COLD_WARM, root, python=python)[0])
        for python in pythons:
            print(f"{n} runs, runs() warm, {repeat} fresh processes of {python}: ", end="")
            print(spread(times[python]))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} at the end")


def timed(
    script: str, root: Path, *extra: str, python: str = sys.executable
) -> tuple[float, float]:
    """(time inside the process, wall time of the process) of one fresh process."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [python, "-c", script, str(root), *extra],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=child_env(),
    )
    wall = time.perf_counter() - t0
    inner = float(out.stdout.split()[0])
    return inner, wall


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s, min {min(values):.2f} s"


def history_pair(root: Path, ids: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", HISTORY, str(root), ids],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=child_env(),
    )
    fresh, after = map(float, out.stdout.split())
    return fresh, after


try:
    import orjson  # noqa: F401

    BARE_JSON = "orjson"
except ImportError:
    BARE_JSON = "json (orjson not installed)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mmtop-bench-open"))
    parser.add_argument("--repeat", type=int, default=5, help="pairs of fresh processes")
    parser.add_argument(
        "--drop-caches", action="store_true", help="empty the kernel's caches before each"
    )
    parser.add_argument(
        "--skip-unindexed", action="store_true", help="skip the cold open without an index"
    )
    parser.add_argument("--warm-only", action="store_true", help="time warm opens alone")
    parser.add_argument(
        "--python", nargs="+", default=[sys.executable], help="interpreters to take in turn"
    )
    args = parser.parse_args()
    if args.warm_only:
        warm_only(args.dir, args.runs, args.repeat, args.python)
        return
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores")
    dropping = args.drop_caches and drop_caches()
    if args.drop_caches and not dropping:
        print("cannot drop the kernel's caches here: cold means no .mmtop/ cache only")
    for n in args.runs:
        root = args.dir / f"runs-{n}"
        if not (root / "mmtop-store.json").exists():
            shutil.rmtree(root, ignore_errors=True)
            t0 = time.perf_counter()
            generate(root, n)
            print(f"generated {n} runs in {time.perf_counter() - t0:.1f} s under {root}")
            time.sleep(2.1)  # files younger than 2 s are never trusted (store/index.py)
        shutil.rmtree(root / ".mmtop", ignore_errors=True)
        shutil.rmtree(root / "_index", ignore_errors=True)
        timed(BARE, root)  # imports and bytecode: not measured
        if not args.skip_unindexed:
            if dropping:
                drop_caches()
            cold = timed(COLD_WARM, root)  # no run index either: every run's files are read
            print(f"{n} runs: runs() cold without a run index {cold[0]:.2f} s")
            shutil.rmtree(root / ".mmtop", ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", INDEX, str(root)], check=True, cwd=REPO, env=child_env()
        )
        print(f"{n} runs: run index written by `mmtop compact` in {time.perf_counter() - t0:.1f} s")
        bares, colds = [], []
        for _ in range(args.repeat):  # in turn: a load spike hits both sides alike
            if dropping:
                drop_caches()
            bares.append(timed(BARE, root))
            shutil.rmtree(root / ".mmtop", ignore_errors=True)
            if dropping:
                drop_caches()
            colds.append(timed(COLD_WARM, root))
        warms = [timed(COLD_WARM, root) for _ in range(args.repeat)]
        ratios = [c[0] / b[0] for b, c in zip(bares, colds, strict=True)]
        what = "dropped caches" if dropping else "no .mmtop/ cache"
        print(f"{n} runs, {args.repeat} fresh processes each ({what}), time inside the process:")
        print(f"  bare {BARE_JSON} + polars read   {spread([b[0] for b in bares])}")
        print(f"  runs() cold, from the run index  {spread([c[0] for c in colds])}")
        print(f"  runs() warm (.mmtop/ cache)      {spread([w[0] for w in warms])}")
        print(
            f"  cold/bare per pair: median {statistics.median(ratios):.2f}, "
            f"max {max(ratios):.2f}; process wall: bare {spread([b[1] for b in bares])}, "
            f"cold {spread([c[1] for c in colds])}"
        )
        ids = ",".join(run_id(i) for i in [*range(50), 199])
        fresh, after = min(history_pair(root, ids) for _ in range(3))
        print(
            f"{n} runs: 51 histories (one key x 200 steps) on a fresh store.open "
            f"{fresh * 1000:.0f} ms, after runs() {after * 1000:.0f} ms"
        )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
