"""Cost of monitoring: logging predictions, and a drift report over a million of them.

- prediction logging: `mon.log(X, pred, probabilities, ids, latency_ms)` in batches of
  1,000 (and 100) rows x 20 features, flushing included, in rows/s; against a bare pyarrow
  Parquet write of the same rows as the reference;
- the drift report: `s.monitoring(name, window="1d")` over 1M logged predictions x 20
  features in 10 daily windows (reading every part, PSI + Wasserstein per feature and
  window, prediction drift, latency, accuracy on the labelled half), median of 3, with the
  CPU time of all threads and the load beside it (on a shared box the wall time follows the
  load); then each phase alone, best of 3: reading the parts, the labels, cutting windows,
  joining the labels, sorting each feature per window, the Wasserstein distances,
  drift.compare per window (sort, PSI bins, null/out-of-range/unseen shares, distances),
  latency quantiles.

    python benchmarks/bench_monitor.py [--rows 1000000 --features 20] [--no-logging]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from mmtop import store
from mmtop.store import drift
from mmtop.store.folders import ensure_store
from mmtop.store.monitoring import reader
from mmtop.store.monitoring.report import join_labels
from mmtop.store.monitoring.windows import assign, spans

DAY0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class Threshold:
    """A stand-in model: class 1 when the first feature is positive."""

    classes_ = np.array([0, 1])

    def predict(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x)[:, 0] > 0).astype(np.int64)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-np.asarray(x)[:, 0]))
        return np.column_stack([1 - p, p])


def setup(root: Path, features: int) -> np.random.Generator:
    ensure_store(root)
    rng = np.random.default_rng(0)
    weights = root.parent / "model.onnx"
    weights.write_bytes(b"model")
    # A file-flavour version with a baseline profiled from a stand-in model's predictions.
    from mmtop.store.monitoring import baseline as base_mod
    from mmtop.store.registry import register

    x_val = rng.normal(size=(20_000, features))
    y_val = (x_val[:, 0] + rng.normal(scale=0.5, size=len(x_val)) > 0).astype(int)
    number = register.register(root, "bench", weights)
    doc = base_mod.build(Threshold(), lambda m, x: m.predict(x), x_val, y_val)
    folder = root / "_models" / "bench" / "versions" / str(number)
    base_mod.write(folder, doc)
    # The manifest names the baseline; written last like a registration does.
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["baseline"] = "baseline.json"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    store.open(root).deploy("bench/1", "prod")
    return rng


def bench_logging(root: Path, rows: int, features: int, batch: int) -> tuple[float, float]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(batch, features))
    model = Threshold()
    pred, proba = model.predict(x), model.predict_proba(x)
    ids = np.arange(batch)
    mon = store.monitor("bench", "prod", root=root, flush_every=1.0)
    t0 = time.perf_counter()
    for i in range(rows // batch):
        mon.log(x, pred, probabilities=proba, ids=ids + i * batch, latency_ms=2.0)
    mon.close()
    ours = rows / (time.perf_counter() - t0)
    # Reference: the same rows as one Arrow table, written once with pyarrow.
    n = rows // batch * batch
    t0 = time.perf_counter()
    cols = {f"x.{j}": np.tile(x[:, j], n // batch) for j in range(features)}
    cols["prediction"] = np.tile(pred, n // batch).astype(str)
    cols["id"] = np.arange(n).astype(str)
    table = pa.table(cols)
    pq.write_table(table, root.parent / "bare.parquet", compression="zstd", compression_level=1)
    bare = n / (time.perf_counter() - t0)
    return ours, bare


def fill(root: Path, rows: int, features: int, rng: np.random.Generator) -> None:
    model = Threshold()
    per_day = rows // 10
    with store.monitor("bench", "prod", root=root, flush_every=3600) as mon:
        for day in range(10):
            x = rng.normal(size=(per_day, features))
            if day >= 8:
                x[:, 1] += 1.0
            ids = np.arange(day * per_day, (day + 1) * per_day)
            mon.log(
                x,
                model.predict(x),
                ids=ids,
                latency_ms=rng.gamma(2.0, 2.0, per_day),
                time=DAY0 + dt.timedelta(days=day, hours=1),
            )
            y = (x[:, 0] + rng.normal(scale=0.5, size=per_day) > 0).astype(int)
            mon.log_labels(ids[: per_day // 2], y[: per_day // 2])
            mon.flush()


def phases(root: Path, s: store.Store, features: int) -> None:
    """The report's phases one by one, wall and CPU seconds (the best of 3 each)."""
    found: dict[str, tuple[float, float]] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        out = None
        for _ in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            out = work()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            best = found.get(name, (math.inf, math.inf))
            found[name] = (min(best[0], wall), min(best[1], cpu))
        return out

    logged = timed("read predictions", lambda: reader.predictions(root, "bench", "prod"))
    labels = timed("read labels", lambda: reader.labels(root, "bench", "prod", ordered=False))
    logged = timed("windows", lambda: assign(logged, "1d"))
    timed("join labels", lambda: join_labels(logged, labels))
    base = s.model("bench/1").baseline()
    assert base is not None
    ready = drift.prepare(base["features"])
    names = [f"x.{j}" for j in range(features)]
    cuts = spans(logged)
    sorted_ = timed(
        "sort each feature per window",
        lambda: [
            drift._sorted_columns(logged.slice(o, n).select(names), names) for _, o, n in cuts
        ],
    )
    timed(
        "Wasserstein (sorted)",
        lambda: [
            drift.wasserstein_sorted(ready.sorted_samples[c[2:]], w[c])
            for w in sorted_
            for c in names
        ],
    )
    timed(
        "drift.compare, all features (sort included)",
        lambda: [
            drift.compare(ready, logged.slice(o, n).select(pl.col(c).alias(c[2:]) for c in names))
            for _, o, n in cuts
        ],
    )
    timed(
        "latency p50/p95",
        lambda: [
            logged.slice(o, n)["latency_ms"].quantile(q) for _, o, n in cuts for q in (0.5, 0.95)
        ],
    )
    for name, (wall, cpu) in found.items():
        print(f"  {name:<44} {wall:6.2f} s wall, {cpu:5.2f} s CPU")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--no-logging", action="store_true", help="the drift report only")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mmruns"
        rng = setup(root, args.features)
        for batch in () if args.no_logging else (1000, 100):
            sub = Path(tmp) / f"log{batch}" / "mmruns"
            setup(sub, args.features)
            ours, bare = bench_logging(sub, min(args.rows, 500_000), args.features, batch)
            print(
                f"logging, batches of {batch:>5,}: {ours:>10,.0f} rows/s "
                f"(bare pyarrow write of the same rows: {bare:,.0f} rows/s)"
            )
        fill(root, args.rows, args.features, rng)
        s = store.open(root)
        times, cpu = [], []
        for _ in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            report = s.monitoring("bench", "prod", window="1d")
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        flagged = sorted(set(report.drift.filter(pl.col("drift"))["column"].to_list()))
        print(
            f"drift report, {args.rows:,} predictions x {args.features} features, 10 windows: "
            f"median {statistics.median(times):.2f} s (budget 2 s), CPU time of all threads "
            f"{statistics.median(cpu):.2f} s, load {os.getloadavg()[0]:.1f}; "
            f"status {report.status}, drifting {flagged}"
        )
        phases(root, s, args.features)
        # Bare reference for this box's load: polars reads the same parts, numpy sorts every
        # feature of every window once (the least an exact Wasserstein distance needs).
        folder = root / "_models" / "bench" / "monitoring" / "prod" / "predictions"
        t0 = time.perf_counter()
        bare = pl.read_parquet(sorted(folder.glob("*.parquet")))
        bare_day = bare["time"].dt.truncate("1d")
        for key in bare_day.unique().sort():
            window = bare.filter(bare_day == key)
            for j in range(args.features):
                np.sort(window[f"x.{j}"].to_numpy())
        bare_s = time.perf_counter() - t0
        print(
            f"  bare reference (polars read + one numpy sort per feature and window): "
            f"{bare_s:.2f} s; report / bare = {statistics.median(times) / bare_s:.1f}x"
        )
        print(f"  (min of 3 reports {min(times):.2f} s; load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
