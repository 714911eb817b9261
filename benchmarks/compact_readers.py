"""History reads while `mmtop compact` runs in another process: how many fail or go wrong?

Builds a store of finished runs, each left with many parts by a writer that died before its
own compaction, starts `mmtop compact` as a separate process, and reads every run's history
(a fresh store each time, as every `mmtop` command does) until the compaction has ended.
Each read must return exactly the points written: a read that raises, or returns a point
twice or misses one, is a failure. Repeats for several rounds (a new store each).

    python benchmarks/compact_readers.py [--runs 60] [--parts 12] [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa

from mmtop import store
from mmtop.store.parts import write_part
from mmtop.store.paths import part_name
from mmtop.store.schema import POINT_SCHEMA

DEAD_WRITER = "0dead000"
POINTS = 200


def build(root: Path, runs: int, parts: int) -> list[str]:
    ids = []
    for _ in range(runs):
        run = store.Run(
            experiment="e", root=root, capture_env=False, capture_code=False, capture_system=False
        )
        run.finish()
        ids.append(run.run_id)
        (run.path / "metrics").mkdir(exist_ok=True)
        for seq in range(1, parts + 1):
            steps = range((seq - 1) * POINTS, seq * POINTS)
            table = pa.table(
                {
                    "step": pa.array(steps, pa.int64()),
                    "time": pa.array(steps, pa.timestamp("us", tz="UTC")),
                    "key": pa.array(["loss"] * POINTS).dictionary_encode(),
                    "value": pa.array([float(s) for s in steps]),
                },
                schema=POINT_SCHEMA,
            )
            write_part(run.path / "metrics" / part_name(DEAD_WRITER, seq), table)
    return ids


def one_round(root: Path, runs: int, parts: int) -> tuple[int, int, list[str]]:
    ids = build(root, runs, parts)
    want = runs * parts * POINTS
    compactor = subprocess.Popen(
        [sys.executable, "-m", "mmtop.tui.cli", "--root", str(root), "compact"],
        stdout=subprocess.DEVNULL,
    )
    reads = 0
    errors: list[str] = []
    while compactor.poll() is None:
        st = store.open(root)
        st.runs()
        reads += 1
        try:
            df = st.history(ids)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        if df.height != want or df.unique(["run_id", "step"]).height != want:
            errors.append(f"{df.height} points read, {want} written")
        elif st.problems():
            errors.append(f"problems reported: {st.problems()[0]}")
    assert compactor.returncode == 0
    left = len(list((root / "e").glob("*/metrics/*.parquet")))
    assert left == runs, f"{left} parts left after compaction, want {runs}"
    return reads, len(errors), errors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--parts", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=5)
    ns = ap.parse_args()
    total = failed = 0
    seen: dict[str, int] = {}
    for _ in range(ns.rounds):
        tmp = Path(tempfile.mkdtemp(prefix="mmtop-compact-"))
        try:
            reads, bad, errors = one_round(tmp / "root", ns.runs, ns.parts)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        total += reads
        failed += bad
        for e in errors:
            seen[e[:100]] = seen.get(e[:100], 0) + 1
    print(f"{failed} of {total} history reads failed while `mmtop compact` ran")
    for e, n in sorted(seen.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {n} x {e}")


if __name__ == "__main__":
    main()
