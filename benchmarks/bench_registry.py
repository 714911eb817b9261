"""Cost of the model registry: registering, listing and resolving versions.

- register a 10 MB model (a file: copy, sha256, manifest, event), median of several;
- `s.models()` over 1,000 versions of 50 models, warm (the store object reused), against a
  bare read of the same 1,000 manifests into a polars frame;
- resolving `name@alias` on a warm store.

    python benchmarks/bench_registry.py [--models 50 --versions 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from mmtop import store


def median_ms(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def register_big(root: Path, work: Path, repeat: int) -> float:
    weights = work / "weights.bin"
    weights.write_bytes(os.urandom(10 * 1000 * 1000))
    s = store.open(root)
    return median_ms(lambda: s.register_model("big", path=weights), repeat)


def build(root: Path, work: Path, models: int, versions: int) -> None:
    s = store.open(root)
    for m in range(models):
        weights = work / f"m{m}.bin"
        weights.write_bytes(os.urandom(256))
        for _ in range(versions):
            s.register_model(f"model-{m:02d}", path=weights)
        s.set_alias(f"model-{m:02d}", "champion", versions // 2)


def bare_manifests(root: Path) -> pl.DataFrame:
    rows = []
    for model in sorted((root / "_models").iterdir()):
        for folder in (model / "versions").iterdir():
            doc = json.loads((folder / "manifest.json").read_bytes())
            rows.append({"name": doc["name"], "version": doc["version"], "size": doc["size"]})
    return pl.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--versions", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mmtop-bench-registry-"))
    try:
        root = work / "mmruns"
        store.Run("bench", root=root, capture_system=False, capture_code=False).finish()
        print(f"register a 10 MB model: {register_big(root, work, 5):.1f} ms (median of 5)")
        shutil.rmtree(root / "_models")
        t0 = time.perf_counter()
        build(root, work, args.models, args.versions)
        total = args.models * args.versions
        built = time.perf_counter() - t0
        print(
            f"registered {total} small versions in {built:.1f} s "
            f"({built / total * 1000:.1f} ms each)"
        )
        s = store.open(root)
        cold = median_ms(lambda: store.open(root).models(), 1)
        assert s.models().height == total
        warm = median_ms(s.models, 20)
        bare = median_ms(lambda: bare_manifests(root), 5)
        print(
            f"models() over {total} versions: warm {warm:.1f} ms, cold {cold:.1f} ms "
            f"(bare json read of the manifests: {bare:.1f} ms)"
        )
        s.model("model-07@champion")
        lookup = median_ms(lambda: s.model("model-07@champion"), 200)
        fresh = median_ms(lambda: store.open(root).model("model-07@champion"), 20)
        print(f"alias lookup: warm {lookup:.2f} ms, fresh store {fresh:.2f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
