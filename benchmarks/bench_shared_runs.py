"""Eight DDP-style ranks on one run, started with random delays, repeated (issue: 20 times).

Each repetition starts 8 processes with WORLD_SIZE=8 and RANK=0..7 (as torchrun sets them),
each after a random 0-`--max-delay` s delay, each logging `--steps` steps of 4 keys. While
they run, run.json is sampled every few ms: the run must read `running` until all 8 writers
have ended and `finished` after. At the end: every rank exited 0, all points read back
exactly once. "late" counts repetitions where a rank joined after another had ended (the
case that used to be refused).

    python benchmarks/bench_shared_runs.py [--reps 20] [--max-delay 3] [--steps 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mmtop import store

RUN_ID = "ddp-bench"
KEYS = 4
RANK = """
import os, sys, time
time.sleep(float(sys.argv[3]))
from mmtop import store
rank = int(os.environ["RANK"])
with store.Run(experiment="ddp", run_id=sys.argv[2], root=sys.argv[1], capture_env=False,
               capture_code=False, capture_system=False) as run:
    for step in range(int(sys.argv[4])):
        base = rank * 1_000_000 + step
        run.log({"loss": base, "acc": base + 0.25, "lr": base + 0.5, "grad": base + 0.75},
                step=step)
"""


def _meta(run_json: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(run_json.read_text()))
    except (OSError, ValueError):
        return None


def one(root: Path, rng: random.Random, max_delay: float, steps: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    procs = []
    for rank in range(8):
        env = dict(os.environ, WORLD_SIZE="8", RANK=str(rank), LOCAL_RANK=str(rank))
        env.pop("MMTOP_DIR", None)
        delay = f"{rng.uniform(0, max_delay):.3f}"
        cmd = [sys.executable, "-c", RANK, str(root), RUN_ID, delay, str(steps)]
        procs.append(subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True))
    run_json = root / "ddp" / RUN_ID / "run.json"
    samples = violations = 0
    while any(p.poll() is None for p in procs):
        meta = _meta(run_json)
        if meta is not None:
            samples += 1
            ended = sum(1 for w in meta.get("writers", []) if w.get("ended"))
            if (meta["status"] == "running") != (ended < 8):
                violations += 1
        time.sleep(0.005)
    codes = [p.wait() for p in procs]
    errors = [p.stderr.read() if p.stderr else "" for p in procs]
    info = store.open(root, cache=False).run(RUN_ID)
    points = store.open(root, cache=False).history(RUN_ID)
    expected = 8 * steps * KEYS
    exact = points.height == expected and points.select("key", "value").n_unique() == expected
    writers = info.meta.get("writers", [])
    late = any(
        a["started"] > b["ended"] for a in writers for b in writers if a is not b and b["ended"]
    )
    return {
        "codes": codes,
        "errors": [e for e in errors if e],
        "status": info.status,
        "exact": exact,
        "points": points.height,
        "samples": samples,
        "violations": violations,
        "late": late,
        "seconds": time.perf_counter() - t0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--max-delay", type=float, default=3.0)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    ns = parser.parse_args()
    rng = random.Random(ns.seed)
    failures = 0
    print(" rep  exit codes        status    points  exact  samples  bad  late  seconds")
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(ns.reps):
            r = one(Path(tmp) / f"rep{rep}", rng, ns.max_delay, ns.steps)
            ok = (
                r["codes"] == [0] * 8
                and r["status"] == "finished"
                and r["exact"]
                and not r["violations"]
            )
            failures += not ok
            codes = "".join(str(c) for c in r["codes"])
            print(
                f"{rep:4d}  {codes:16s}  {r['status']:8s}  {r['points']:6d}  "
                f"{str(r['exact']):5s}  {r['samples']:7d}  {r['violations']:3d}  "
                f"{str(r['late']):5s}  {r['seconds']:7.1f}"
            )
            for err in r["errors"]:
                print("      " + err.strip().splitlines()[-1])
    print(f"{ns.reps - failures} of {ns.reps} repetitions correct")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
