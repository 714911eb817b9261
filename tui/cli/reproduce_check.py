"""Did a rebuilt run match its original? Params equal, datasets' fingerprints equal, and every
metric's last/min/max within a relative tolerance; the differences as `mmtop diff` shows them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import IO, Any

from mmtop.tui import diffing
from mmtop.tui.cli import diffview
from mmtop.tui.compare_data import read_compare


@dataclass
class Verdict:
    report: diffview.Report
    params: int  # params that differ
    metrics: int  # metric statistics beyond the tolerance
    different_data: list[str]

    @property
    def reproduced(self) -> bool:
        return not (self.params or self.metrics or self.different_data)

    def summary(self, rtol: float) -> str:
        if self.reproduced:
            how = "exactly" if rtol == 0 else f"within rtol {rtol:g}"
            return f"reproduced {how}: params, data and every metric's last/min/max match"
        parts = []
        if self.params:
            parts.append(f"{self.params} param(s) differ")
        if self.different_data:
            parts.append("trained on different data: " + ", ".join(self.different_data))
        if self.metrics:
            tol = "" if rtol == 0 else f" beyond rtol {rtol:g}"
            parts.append(f"{self.metrics} metric value(s) differ{tol}")
        return "not reproduced: " + "; ".join(parts)


def close(a: float | None, b: float | None, rtol: float) -> bool:
    """Equal within rtol of the original's magnitude; NaN matches NaN, inf its own sign."""
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rtol * abs(a)


def compare(st: Any, original: str, rebuilt: str, rtol: float) -> Verdict:
    data = read_compare(st, [original, rebuilt])
    if len(data.run_ids) != 2:
        raise ValueError(f"could not read run(s): {', '.join(data.missing)}")
    params = diffing.diff_rows(data.params)
    data_rows = diffing.data_rows(data.inputs)
    different = diffing.different_data(data.inputs)
    metrics = [
        row
        for row in diffing.metric_rows(data.stats, 0, all_rows=False)
        if not close(row.cells[0].value, row.cells[1].value, rtol)
    ]
    report = diffview.Report(
        runs=[{"run_id": i} for i in data.run_ids],
        labels=["original", "rebuilt"],
        baseline=0,
        sections=["params", "metrics", "data"],
        rows={"params": params, "data": data_rows},
        totals={
            "params": len(diffing.diff_rows(data.params, all_rows=True)),
            "metrics": len({k for s in data.stats for k in s}),
            "data": len(diffing.data_rows(data.inputs, all_rows=True)),
        },
        metrics=metrics,
        different_data=different,
    )
    return Verdict(report, len(params), len(metrics), different)


def render(verdict: Verdict, out: IO[bytes], rtol: float) -> None:
    diffview.render(verdict.report, "table", out, to_terminal=False)
    out.write((verdict.summary(rtol) + "\n").encode())
