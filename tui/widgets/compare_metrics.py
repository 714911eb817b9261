"""Metrics tab of the compare screen: last/min/max of each key per run, against a baseline.

Each non-baseline cell shows its value, then the delta to the baseline's value, absolute and
in percent, green when better and red when worse (for keys whose direction is known); the
best value of a row gets a star. Grouped, the columns are groups and a cell reads
`mean ± std n=3`, its delta taken between group means.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from mmtop.tui.diffing import Cell, Direction, MetricRow
from mmtop.tui.formatting import fit, fmt_number
from mmtop.tui.grouping import GroupStat
from mmtop.tui.safe_text import safe
from mmtop.tui.widgets.compare_table import COLUMN_WIDTH, KEY_WIDTH, CompareTable, header

ARROWS: dict[Direction, str] = {"lower": "↓", "higher": "↑", None: ""}
BETTER_STYLES = {True: "green", False: "red", None: ""}
GROUP_COLUMN_WIDTH = 40  # group labels name every param that sets the group apart


def delta_text(cell: Cell) -> str:
    """`+0.0123 (+2.7%)`, `+0.5` when the baseline is 0, `=` when equal, empty without."""
    if cell.delta is None:
        return ""
    if cell.delta == 0:
        return "="  # the same as the baseline: say so without a row of zeros
    pct = "" if cell.pct is None else f" ({cell.pct:+.1f}%)"
    return f"{cell.delta:+.3g}{pct}"


def value_text(cell: Cell, stat: GroupStat | None = None) -> str:
    if cell.value is None:
        return "—"
    if stat is None:
        return fmt_number(cell.value)
    spread = "" if stat.std is None else f"±{stat.std:.2g}"
    return f"{fmt_number(cell.value)}{spread} n={stat.n}"


def metric_cell(cell: Cell, *, best: bool, baseline: bool, stat: GroupStat | None = None) -> Text:
    """One run's (or group's) value of a metric row, with its delta, as styled text."""
    if cell.value is None:
        return Text("—", style="dim")
    text = Text()
    if best:
        text.append("★ ", style="bold yellow")
    text.append(value_text(cell, stat), style="bold" if baseline or best else "")
    delta = delta_text(cell)
    if delta:
        text.append("  ")
        text.append(delta, style=BETTER_STYLES[cell.better])
    return text


def single_value_keys(rows: Sequence[MetricRow]) -> set[str]:
    """Keys whose min and max equal the last value in every run (summary values, one-point
    metrics): their min and max rows say nothing new."""
    by_key: dict[str, dict[str, MetricRow]] = {}
    for row in rows:
        by_key.setdefault(row.key, {})[row.stat] = row
    out = set()
    for key, stats in by_key.items():
        last = stats.get("last")
        if last is None:
            continue
        values = [c.value for c in last.cells]
        if all([c.value for c in stats[s].cells] == values for s in ("min", "max") if s in stats):
            out.add(key)
    return out


def shown_rows(
    rows: Sequence[MetricRow], pattern: re.Pattern[str] | None = None
) -> list[MetricRow]:
    """Rows kept: those matching the filter, without redundant min/max of single values."""
    single = single_value_keys(rows)
    return [
        r
        for r in rows
        if (pattern is None or pattern.search(r.key) is not None)
        and not (r.key in single and r.stat != "last")
    ]


class MetricsDeltaPane(Vertical):
    DEFAULT_CSS = """
    MetricsDeltaPane > .compare-caption { height: auto; padding: 0 1; color: $text-muted; }
    MetricsDeltaPane > CompareTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), classes="compare-caption")
        yield CompareTable(fixed=2, id="metrics-table")

    @property
    def table(self) -> CompareTable:
        return self.query_one(CompareTable)

    def show(
        self,
        labels: Sequence[str],
        rows: Sequence[MetricRow],
        baseline: int,
        *,
        pattern: re.Pattern[str] | None = None,
        groups: Sequence[Mapping[str, Mapping[str, GroupStat]]] | None = None,
        overridden: Mapping[str, Direction] | None = None,
    ) -> list[MetricRow]:
        """Fill the table; returns the rows shown, in order (the cursor's row is one)."""
        visible = shown_rows(rows, pattern)
        width = GROUP_COLUMN_WIDTH if groups is not None else COLUMN_WIDTH
        titles = [header(label, i == baseline, width) for i, label in enumerate(labels)]
        cells = []
        for r in visible:
            arrow = ARROWS[r.direction]
            mark = "*" if overridden and r.key in overridden else ""
            key = safe(fit(r.key, KEY_WIDTH - 3), "bold", single_line=True)
            key.append(f" {arrow}{mark}" if arrow or mark else "", style="cyan")
            line = [key, Text(r.stat, style="dim")]
            for i, c in enumerate(r.cells):
                stat = groups[i].get(r.key, {}).get(r.stat) if groups is not None else None
                line.append(metric_cell(c, best=i in r.best, baseline=i == baseline, stat=stat))
            cells.append(line)
        self.table.fill(["metric", "stat"], titles, cells)
        keys = len({r.key for r in rows})
        what = "groups (mean ± std, n runs)" if groups is not None else "runs"
        caption = Text(f"{keys} metric keys · {len(labels)} {what} · deltas vs ◆ baseline")
        if pattern is not None:
            caption.append_text(safe(f" · filter /{pattern.pattern}/", single_line=True))
        caption.append("  ·  ★ best  ↓↑ better direction (d sets it)", style="dim")
        if not visible:
            note = "no metric matches the filter" if pattern else "no metrics logged"
            caption.append(f"\n{note}", style="italic")
        self.query_one(".compare-caption", Static).update(caption)
        return visible
