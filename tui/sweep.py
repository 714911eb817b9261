"""The compare screen's sweep view: one param against one metric, a point per run.

Pure Python, no Textual. Which params are worth a plot (those whose values differ between
the runs), which metrics (the last value of those the runs logged, ones that change first),
where each run lands, and the mean of the metric per param value (what a sweep user reads
off W&B's parallel coordinates and parameter importance first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mmtop.tui import diffing
from mmtop.tui.compare_data import CompareData
from mmtop.tui.formatting import fmt_value


@dataclass(frozen=True)
class Point:
    run_id: str
    label: str
    x: float | str  # a number, or a category (text, bools, lists) as its text
    y: float


def sweep_params(data: CompareData) -> list[str]:
    """Dotted param keys whose values differ between the runs, in key order."""
    flat = [diffing.flatten(p) for p in data.params]
    keys = sorted({k for f in flat for k in f})
    return [k for k in keys if len({fmt_value(f.get(k)) for f in flat}) > 1]


def sweep_metrics(data: CompareData) -> list[str]:
    """Metric keys with a last value in two runs or more; those that change first."""
    have = [k for k in data.metric_keys if _count(data, k) >= 2]
    rest = sorted({k for st in data.stats for k in st if k not in have and _count(data, k) >= 2})
    return have + rest


def _count(data: CompareData, key: str) -> int:
    return sum(1 for st in data.stats if _finite(st.get(key, {}).get("last")))


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def points(data: CompareData, param: str, metric: str) -> list[Point]:
    """One point per run that has both; numbers stay numbers, anything else is a category."""
    out: list[Point] = []
    for run_id, label, params, stats in zip(
        data.run_ids, data.labels, data.params, data.stats, strict=True
    ):
        value = diffing.flatten(params).get(param)
        y = stats.get(metric, {}).get("last")
        if value is None or not _finite(y):
            continue
        x: float | str
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            x = float(value)
            if not math.isfinite(x):
                continue
        else:
            x = fmt_value(value)
        out.append(Point(run_id, label, x, float(y)))  # type: ignore[arg-type]
    # A param that is a number in some runs and text in others is plotted as categories.
    if any(isinstance(p.x, str) for p in out):
        out = [Point(p.run_id, p.label, _text(p.x), p.y) for p in out]
    return out


def _text(x: float | str) -> str:
    return x if isinstance(x, str) else fmt_value(int(x) if x.is_integer() else x)


def by_value(pts: Sequence[Point]) -> list[tuple[str, float, int]]:
    """(param value, mean of the metric, runs) per value of the param, best mean first."""
    groups: dict[float | str, list[float]] = {}
    for p in pts:
        groups.setdefault(p.x, []).append(p.y)
    rows = [(_text(x), sum(ys) / len(ys), len(ys)) for x, ys in groups.items()]
    return sorted(rows, key=lambda r: -r[1])


def categories(pts: Sequence[Point]) -> list[str]:
    """The category values of a categorical x, in a stable order (sorted)."""
    return sorted({p.x for p in pts if isinstance(p.x, str)})
