"""Cost of dataset versions: fingerprinting files and frames, and diffing two versions.

- fingerprint throughput of one file (GB/s), against `sha256sum` on the same file as the bare
  baseline (the file is in the OS cache for both: the first read warms it);
- a folder of the same bytes in 16 files (files are hashed a few at a time);
- a 1M-row frame (polars) from its Arrow buffers, against `sha256sum` of the same frame
  written as Parquet, and the peak traced memory of the file fingerprint;
- `dataset_diff` of two 1M-row versions with snapshots: schema, profiles' drift and rows by
  key (1% of rows changed, 1% added, 1% removed).

    python benchmarks/bench_datasets.py [--gb 1 --rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from mmtop import store
from mmtop.store.datasets.fingerprint import hash_file, hash_folder, hash_table


def best_s(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def write_random(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(size // len(block)):
            f.write(block)


def sha256sum(path: Path) -> None:
    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)


def frame(rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "id": np.arange(rows),
            "x": rng.normal(size=rows),
            "y": rng.integers(0, 10, size=rows),
            "label": rng.choice(["cat", "dog", "bird"], size=rows),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=1.0, help="size of the file to fingerprint")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of each diffed version")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-datasets-"))
    try:
        size = int(args.gb * (1 << 30))
        big = work / "big.bin"
        write_random(big, size)
        sha256sum(big)  # warm the OS cache for both
        ours = best_s(lambda: hash_file(big), args.repeat)
        bare = best_s(lambda: sha256sum(big), args.repeat)
        gb = size / 1e9
        print(
            f"file {size >> 20} MiB: fingerprint {gb / ours:.2f} GB/s ({ours:.2f} s), "
            f"sha256sum {gb / bare:.2f} GB/s ({bare:.2f} s), ratio {ours / bare:.2f}x"
        )
        tracemalloc.start()
        hash_file(big)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"file fingerprint: peak traced memory {peak / (1 << 20):.1f} MiB")

        folder = work / "folder"
        folder.mkdir()
        with open(big, "rb") as src:
            for i in range(16):
                (folder / f"part-{i:02d}.bin").write_bytes(src.read(size // 16))
        big.unlink()
        took = best_s(lambda: hash_folder(folder), args.repeat)
        print(f"folder of 16 files, {size >> 20} MiB: {gb / took:.2f} GB/s ({took:.2f} s)")
        shutil.rmtree(folder)

        a = frame(args.rows, 0)
        table = a.to_arrow()
        took = best_s(lambda: hash_table(table), args.repeat)
        as_parquet = work / "a.parquet"
        a.write_parquet(as_parquet)
        bare = best_s(lambda: sha256sum(as_parquet), args.repeat)
        mb = table.nbytes / 1e6
        print(
            f"frame {args.rows:,} rows x 4 columns ({mb:.0f} MB in Arrow): {took:.3f} s "
            f"({mb / 1e3 / took:.2f} GB/s); sha256sum of it as Parquet: {bare:.3f} s"
        )

        root = work / "store"
        changed = a.with_columns(
            pl.when(pl.col("id") % 100 == 0).then(pl.col("x") + 1).otherwise(pl.col("x"))
        )
        n = args.rows // 100
        b = pl.concat(
            [
                changed.slice(n),
                frame(n, 1).with_columns(pl.col("id") + args.rows),
            ]
        )
        t0 = time.perf_counter()
        store.log_dataset_version("bench", a, root, key="id", snapshot=True)
        store.log_dataset_version("bench", b, root, key="id", snapshot=True)
        print(
            f"register two {args.rows:,}-row versions (fingerprint, profile, snapshot): "
            f"{time.perf_counter() - t0:.2f} s"
        )
        s = store.open(root)
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            d = s.dataset_diff("bench@1", "bench@2")
            times.append(time.perf_counter() - t0)
        k = d["keyed"]
        print(
            f"diff of two {args.rows:,}-row versions: {statistics.median(times):.2f} s "
            f"(added {k['added']:,}, removed {k['removed']:,}, changed {k['changed']:,}; "
            f"{sum(r['drift'] for r in d['shift'])} columns drifted)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
