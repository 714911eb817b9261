"""Writing a run's whole history at once: the parts and summary a `Run`'s writer leaves,
from numpy arrays, for writers that have every point up front (`mmtop import`).

`Run.log` buffers calls and flushes them in the background; a bulk writer skips all of that:
points go into Parquet parts of many thousands of rows each, and the summary (last, min, max,
count per key) is computed in the same pass.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import paths
from .buffer import key_stats, points_table
from .fsio import write_bytes_atomic
from .parts import PartWriter

PART_ROWS = 2_000_000


def write_points(
    run: Path,
    writer: str,
    names: list[str],
    key_idx: np.ndarray[Any, Any],
    steps: np.ndarray[Any, Any],
    times_us: np.ndarray[Any, Any],
    values: np.ndarray[Any, Any],
    summary_values: dict[str, float] | None = None,
    part_rows: int = PART_ROWS,
) -> int:
    """Write the points of the run folder `run` as `writer`'s parts and summary; returns the
    number written. Point i is key `names[key_idx[i]]` at `steps[i]`, `times_us[i]` (µs since
    the epoch), `values[i]`; points must be grouped by key, each key's in step order (the
    order readers and the summary's `last` rely on). `summary_values`: the summary's
    explicit values (`Run.summary`)."""
    metrics: dict[str, Any] = {}
    if len(values):
        parts = PartWriter(run / paths.METRICS_DIR, writer)
        for start in range(0, len(values), part_rows):
            cut = slice(start, start + part_rows)
            table = points_table(names, key_idx[cut], steps[cut], times_us[cut], values[cut])
            parts.write(table)
        parts.try_compact()
        stats = key_stats(key_idx, steps, times_us, values, names)
        metrics = {k: v.to_json() for k, v in stats.items()}
    summary = {
        "writer": writer,
        "updated": time.time(),
        "metrics": metrics,
        "values": dict(summary_values or {}),
        "system": {},
    }
    (run / paths.SUMMARY_DIR).mkdir(exist_ok=True)
    write_json_compact(paths.summary_file(run, writer), summary)
    return len(values)


def write_json_compact(path: Path, obj: Any) -> None:
    """`obj` as one line of JSON, atomically: the C encoder, where the indented files the
    writer leaves go through Python's pure-Python one, a third of a bulk write's time.
    Readers parse either; NaN and inf are written as the JSON extensions both read."""
    write_bytes_atomic(path, json.dumps(obj, ensure_ascii=False).encode("utf-8"))
