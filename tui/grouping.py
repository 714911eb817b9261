"""Grouping compared runs: by one param, or by every param except the seed-like ones.

Pure (polars, no Textual). `group_runs` splits runs into groups; `group_curves` turns their
histories into one mean curve per group with a standard deviation and a count per step;
`group_stats` gives the same mean, std and n for the last/min/max summary of each metric.

Standard deviations are sample ones (ddof=1, polars' default), so a group of one run has a
null std: there is no spread to show, which is not the same as a spread of zero.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from mmtop.tui.diffing import MISSING, flatten, same
from mmtop.tui.formatting import fmt_value

ALL_BUT_SEEDS = "*"
"""`by` value meaning "every param except the seed-like ones"."""

SEED_NAMES = frozenset({"seed", "random_state", "rng"})
CURVE_SCHEMA = {
    "group": pl.String,
    "key": pl.String,
    "step": pl.Float64,
    "mean": pl.Float64,
    "std": pl.Float64,
    "n": pl.UInt32,
}


@dataclass(frozen=True)
class Group:
    """Runs sharing the grouping values; `members` index the runs as given, in order."""

    label: str
    members: tuple[int, ...]

    @property
    def n(self) -> int:
        return len(self.members)


@dataclass(frozen=True)
class GroupStat:
    mean: float | None
    std: float | None  # None for a group of one (or when no member has the value)
    n: int  # members that logged the value


def is_seed_like(key: str) -> bool:
    """True for flattened keys such as `seed`, `data.random_state`, `rng.kind`, `init_seed`."""
    for part in re.split(r"[./]", key.lower()):
        if part in SEED_NAMES or "seed" in part:
            return True
    return False


def grouping_keys(params: Sequence[Mapping[str, Any] | None]) -> list[str]:
    """Params worth grouping by: flattened keys whose values differ between the runs."""
    flats = [flatten(p or {}) for p in params]
    keys = sorted({k for f in flats for k in f})
    return [
        k
        for k in keys
        if any(not same(flats[0].get(k, MISSING), f.get(k, MISSING)) for f in flats[1:])
    ]


def group_runs(params: Sequence[Mapping[str, Any] | None], by: str) -> list[Group]:
    """Groups in order of first appearance, so the first run's group comes first.

    `by` is a flattened param key (`model.depth`), or ALL_BUT_SEEDS to group runs whose
    params are equal once seed-like keys are ignored. A run lacking the key forms its own
    `key=—` group. Labels name only the keys that set the groups apart.
    """
    flats = [flatten(p or {}) for p in params]
    if by == ALL_BUT_SEEDS:
        keys = [k for k in grouping_keys(params) if not is_seed_like(k)]
    else:
        keys = [by]
    order: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    for i, flat in enumerate(flats):
        values = [flat.get(k, MISSING) for k in keys]
        sig = json.dumps([_canonical(v) for v in values], sort_keys=True)
        order.setdefault(sig, []).append(i)
        if sig not in labels:
            label = _label(keys, values)
            # Labels key the groups: "1" (text) and 1 (number) must not share one.
            taken = set(labels.values())
            n = 2
            base = label
            while label in taken:
                label, n = f"{base} #{n}", n + 1
            labels[sig] = label
    return [Group(labels[sig], tuple(members)) for sig, members in order.items()]


def assignment(run_ids: Sequence[str], groups: Sequence[Group]) -> dict[str, str]:
    """run_id -> group label, for joining histories."""
    return {run_ids[i]: g.label for g in groups for i in g.members}


def group_curves(
    history: pl.DataFrame, groups: Mapping[str, str], buckets: int | None = None
) -> pl.DataFrame:
    """Mean, std and n per group, key and step (columns as CURVE_SCHEMA), sorted.

    `history` is long (run_id, key, step, value); `groups` maps run_id to a group label
    (runs not in it are left out). A run logging one step twice counts once, with its mean.
    With `buckets`, a key with more distinct steps than that is cut into `buckets` equal
    step ranges first (each run averaged within a range, at its mean step), so runs whose
    points do not share steps, such as downsampled ones, still average together.
    """
    if history.height == 0 or not groups:
        return pl.DataFrame(schema=CURVE_SCHEMA)
    mapping = pl.DataFrame(
        {"run_id": list(groups), "group": list(groups.values())},
        schema={"run_id": pl.String, "group": pl.String},
    )
    data = history.lazy().select("run_id", "key", pl.col("step").cast(pl.Float64), "value")
    data = data.join(mapping.lazy(), on="run_id", how="inner")
    # `_x` is what points are matched on across runs: the step, or its bucket.
    if buckets is not None and buckets > 0:
        data = data.with_columns(_bucket(buckets).alias("_x"))
    else:
        data = data.with_columns(pl.col("step").alias("_x"))
    per_run = data.group_by("group", "run_id", "key", "_x").agg(
        pl.col("step").mean(), pl.col("value").mean()
    )
    out = (
        per_run.group_by("group", "key", "_x")
        .agg(
            pl.col("step").mean(),
            pl.col("value").mean().alias("mean"),
            pl.col("value").std().alias("std"),
            pl.len().cast(pl.UInt32).alias("n"),
        )
        .sort("group", "key", "step")
        .collect()
    )
    return out.select(list(CURVE_SCHEMA)).cast(CURVE_SCHEMA)  # type: ignore[arg-type]


def _bucket(buckets: int) -> pl.Expr:
    """The step's bucket among `buckets` equal step ranges of its key, for keys with more
    distinct steps than that; the step itself otherwise."""
    lo = pl.col("step").min().over("key")
    hi = pl.col("step").max().over("key")
    distinct = pl.col("step").n_unique().over("key")
    width = ((hi - lo) / buckets).clip(lower_bound=1e-300)
    bucket = ((pl.col("step") - lo) / width).floor().clip(upper_bound=buckets - 1)
    return pl.when(distinct > buckets).then(bucket).otherwise(pl.col("step"))


def group_stats(
    stats: Sequence[Mapping[str, Mapping[str, float]]], groups: Sequence[Group]
) -> list[dict[str, dict[str, GroupStat]]]:
    """Per group: {metric key: {stat: GroupStat}} over its members' last/min/max values.

    `stats[i]` is run i's {key: {"last": .., "min": .., "max": ..}} (`diffing.stats_of`).
    """
    rows = [
        (gi, key, stat, float(value))
        for gi, g in enumerate(groups)
        for i in g.members
        for key, per_stat in stats[i].items()
        for stat, value in per_stat.items()
    ]
    out: list[dict[str, dict[str, GroupStat]]] = [{} for _ in groups]
    if not rows:
        return out
    frame = pl.DataFrame(
        rows,
        schema={"g": pl.Int64, "key": pl.String, "stat": pl.String, "value": pl.Float64},
        orient="row",
    )
    agg = frame.group_by("g", "key", "stat").agg(
        pl.col("value").mean().alias("mean"),
        pl.col("value").std().alias("std"),
        pl.len().alias("n"),
    )
    for gi, key, stat, mean, std, n in agg.iter_rows():
        out[gi].setdefault(key, {})[stat] = GroupStat(mean, _finite_or_none(std, n), int(n))
    return out


def group_means(
    per_group: Sequence[Mapping[str, Mapping[str, GroupStat]]],
) -> list[dict[str, dict[str, float]]]:
    """The group means in the shape `diffing.metric_rows` takes, to compare groups."""
    return [
        {
            key: {s: st.mean for s, st in per_stat.items() if st.mean is not None}
            for key, per_stat in g.items()
        }
        for g in per_group
    ]


def _finite_or_none(std: float | None, n: int) -> float | None:
    return None if std is None or n < 2 else std


def _canonical(value: Any) -> Any:
    """A JSON-able stand-in that tells values apart the way `diffing.same` does."""
    if value is MISSING:
        return ["missing"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int | float):
        f = float(value)
        return ["num", "nan" if math.isnan(f) else repr(f)]
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return ["str", str(value)] if value is not None else ["null"]


def _label(keys: Sequence[str], values: Sequence[Any]) -> str:
    """`lr=0.1 kind=sgd`: with several keys, each by its last part unless two share it
    (then whole), so labels stay short enough for a legend and a column title."""
    if not keys:
        return "all runs"
    last = [k.rsplit(".", 1)[-1] for k in keys]
    names = [
        t if len(keys) > 1 and last.count(t) == 1 else k for k, t in zip(keys, last, strict=True)
    ]
    parts = [
        f"{n}={'—' if v is MISSING else fmt_value(v)}" for n, v in zip(names, values, strict=True)
    ]
    return " ".join(parts)
