"""What the compare screen's charts draw, read off the UI thread: one Series per run, or
per group (its mean, banded by ±1 std), for the metric keys a page of charts shows.

`ChartSource` says which runs, how they are labelled, coloured and grouped, and how
finely to read them; `read_series` reads some keys from the store and builds the series
(numpy arrays and all), so the UI thread only hands them to the charts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from mmtop.tui.charting import Series
from mmtop.tui.grouping import group_curves

RAW_GROUP_LIMIT = 2_000_000  # grouping reads full histories up to this many points


@dataclass(frozen=True)
class ChartSource:
    store: Any
    labels: dict[str, str]  # run_id -> label, in column order
    colors: dict[str, str]  # run_id (or group label) -> colour
    max_points: int  # per series, for min/max downsampling
    system: bool = False
    groups: dict[str, str] | None = None  # run_id -> group label, when grouped
    group_labels: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)  # key -> points logged, all runs


def read_series(source: ChartSource, keys: Sequence[str] | None) -> dict[str, list[Series]]:
    """Series of `keys` (all keys when None); a key no run logged maps to []."""
    ids = list(source.labels)
    if source.groups is None:
        frame = source.store.history(
            ids, keys=keys, max_points=source.max_points, system=source.system
        )
        series = run_series(frame, source.labels, source.colors)
    else:
        # Full histories when small, so seeds average point by point; else downsampled,
        # then cut into buckets so seeds whose kept points differ still line up.
        points = sum(source.counts.get(k, 0) for k in keys) if keys is not None else 0
        small = keys is not None and points <= RAW_GROUP_LIMIT
        frame = source.store.history(
            ids,
            keys=keys,
            max_points=None if small else source.max_points * 4,
            system=source.system,
        )
        curves = group_curves(frame, source.groups, buckets=source.max_points // 2)
        series = group_series(curves, source.group_labels, source.colors)
    if keys is None:
        return series
    return {k: series.get(k, []) for k in keys}


def run_series(
    frame: pl.DataFrame, labels: Mapping[str, str], colors: Mapping[str, str]
) -> dict[str, list[Series]]:
    """key -> one Series per run (in `labels` order), with wall times for the time axes.

    `frame` is a history (run_id, key, step, time, value); `labels` and `colors` are keyed
    by run id.
    """
    if frame.height == 0:
        return {}
    order = {run_id: i for i, run_id in enumerate(labels)}
    data = frame.filter(pl.col("run_id").is_in(list(labels))).with_columns(
        (pl.col("time").dt.epoch("us") / 1e6).alias("t")
    )
    found: dict[str, list[tuple[int, Series]]] = {}
    for (run_id, key), part in data.group_by("run_id", "key"):
        rid, k = str(run_id), str(key)
        series = Series(
            labels[rid],
            part.get_column("step").to_numpy(),
            part.get_column("value").to_numpy(),
            times=part.get_column("t").to_numpy(),
            color=colors.get(rid),
        )
        found.setdefault(k, []).append((order[rid], series))
    return {k: [s for _, s in sorted(v, key=lambda p: p[0])] for k, v in sorted(found.items())}


def group_series(
    curves: pl.DataFrame, labels: Sequence[str], colors: Mapping[str, str]
) -> dict[str, list[Series]]:
    """key -> one Series per group (in `labels` order): the mean, banded by ±1 std.

    `curves` comes from `tui.grouping.group_curves`; a step with one run has no spread,
    so its band closes on the mean there.
    """
    if curves.height == 0:
        return {}
    order = {label: i for i, label in enumerate(labels)}
    found: dict[str, list[tuple[int, Series]]] = {}
    for (group, key), part in curves.group_by("group", "key"):
        g, k = str(group), str(key)
        if g not in order:
            continue
        mean = part.get_column("mean").to_numpy()
        std = part.get_column("std").fill_null(0.0).to_numpy()
        series = Series(
            g,
            part.get_column("step").to_numpy(),
            mean,
            color=colors.get(g),
            band=(mean - std, mean + std),
        )
        found.setdefault(k, []).append((order[g], series))
    return {k: [s for _, s in sorted(v, key=lambda p: p[0])] for k, v in sorted(found.items())}
