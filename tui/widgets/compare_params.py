"""Params tab of the compare screen: one row per flattened param, one column per run.

Only rows whose values differ are shown unless `show_all`; a cell that differs from the
baseline run's value is highlighted, and a run lacking the key shows a dim dash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from mmtop.tui import diffing
from mmtop.tui.formatting import fit, fmt_value
from mmtop.tui.safe_text import safe
from mmtop.tui.widgets.compare_table import COLUMN_WIDTH, KEY_WIDTH, CompareTable, header

DIFFERS_STYLE = "bold yellow"


def value_text(value: Any) -> str:
    if value is diffing.MISSING:
        return "—"
    if value is None:
        return "null"
    return fit(fmt_value(value), COLUMN_WIDTH)


def cell(value: Any, base: Any) -> Text:
    """A param cell: highlighted when it differs from the baseline's value."""
    if value is diffing.MISSING:
        return Text("—", style="dim")
    style = DIFFERS_STYLE if not diffing.same(value, base) else ""
    return safe(value_text(value), style, single_line=True)


def param_table(
    params: Sequence[Mapping[str, Any] | None],
    *,
    show_all: bool = False,
    pattern: re.Pattern[str] | None = None,
) -> tuple[list[diffing.Row], int, int]:
    """The rows to show, and how many keys differ and exist in all (before the filter)."""
    rows = diffing.diff_rows(params, all_rows=True)
    differing = sum(r.differs for r in rows)
    shown = [
        r
        for r in rows
        if (show_all or r.differs) and (pattern is None or pattern.search(r.key) is not None)
    ]
    return shown, differing, len(rows)


class ParamsDiffPane(Vertical):
    DEFAULT_CSS = """
    ParamsDiffPane > .compare-caption { height: auto; padding: 0 1; color: $text-muted; }
    ParamsDiffPane > CompareTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), classes="compare-caption")
        yield CompareTable(id="params-table")

    @property
    def table(self) -> CompareTable:
        return self.query_one(CompareTable)

    def show(
        self,
        labels: Sequence[str],
        params: Sequence[Mapping[str, Any] | None],
        baseline: int,
        *,
        show_all: bool,
        pattern: re.Pattern[str] | None,
    ) -> None:
        rows, differing, total = param_table(params, show_all=show_all, pattern=pattern)
        titles = [header(label, i == baseline) for i, label in enumerate(labels)]
        cells = [
            [safe(fit(r.key, KEY_WIDTH), "bold" if r.differs else "", single_line=True)]
            + [cell(v, r.values[baseline]) for v in r.values]
            for r in rows
        ]
        self.table.fill(["param"], titles, cells)
        what = "all params" if show_all else "params that differ"
        caption = Text(f"{differing} of {total} params differ · showing {what} ({len(rows)})")
        if pattern is not None:
            caption.append_text(safe(f" · filter /{pattern.pattern}/", single_line=True))
        caption.append("  ·  a: all/diff only  b: baseline = highlighted run", style="dim")
        if not rows:
            note = "no param matches the filter" if pattern else "every param is the same"
            caption.append(f"\n{note}", style="italic")
        self.query_one(".compare-caption", Static).update(caption)
