"""Charts of the compare screen: a page of overlaid `MetricChart`s, one per metric key.

Every run (or group, drawn as its mean with a ±1 std band) is one series, in the same
colour on every chart. A regex narrows the keys; `]`/`[` (or page down/up) turn pages.
Smoothing, x axis, log y and outlier settings changed on one chart apply to all of them,
so the runs can be read side by side; the cursor and zoom stay with each chart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import polars as pl
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Static

from tui.charting import ChartState, Series
from tui.safe_text import safe
from tui.widgets.chart import MetricChart

PAGE_SIZE = 4  # a 2 x 2 grid: four charts stay readable on an 80 x 24 terminal


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


def view_of(state: ChartState) -> dict[str, Any]:
    """The settings shared by all charts of a grid."""
    return {
        "x_mode": state.x_mode,
        "smoothing": state.smoothing,
        "log_y": state.log_y,
        "robust_y": state.robust_y,
    }


class ChartsGrid(Vertical):
    BINDINGS = [
        Binding(
            "right_square_bracket,pagedown",
            "page(1)",
            "Next charts",
            key_display="]",
            id="compare.charts.next",
        ),
        Binding(
            "left_square_bracket,pageup",
            "page(-1)",
            "Previous charts",
            key_display="[",
            id="compare.charts.previous",
        ),
    ]
    DEFAULT_CSS = """
    ChartsGrid > .charts-status { height: auto; padding: 0 1; color: $text-muted; }
    ChartsGrid > Grid { grid-size: 2 2; grid-gutter: 0 1; height: 1fr; }
    ChartsGrid MetricChart { height: 1fr; min-height: 6; }
    """

    def __init__(self, empty: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.empty = empty
        self.series: dict[str, list[Series]] = {}
        self.pattern: re.Pattern[str] | None = None
        self.page = 0
        self.view: dict[str, Any] = view_of(ChartState())
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), classes="charts-status")
        with Grid():
            for i in range(PAGE_SIZE):
                yield MetricChart(classes="compare-chart", id=f"{self.id or 'charts'}-{i}")

    @property
    def charts(self) -> list[MetricChart]:
        return list(self.query(MetricChart))

    @property
    def keys(self) -> list[str]:
        """Keys passing the filter, in order."""
        return [k for k in self.series if self.pattern is None or self.pattern.search(k)]

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.keys) // PAGE_SIZE))

    @property
    def shown_keys(self) -> list[str]:
        """Keys on the current page, as the charts show them."""
        return [c.title for c in self.charts if c.display]

    def set_data(self, series: dict[str, list[Series]]) -> None:
        self.series = series
        self.loaded = True
        self._render_page()

    def set_filter(self, pattern: re.Pattern[str] | None) -> None:
        self.pattern = pattern
        self.page = 0
        self._render_page()

    def action_page(self, delta: int) -> None:
        page = min(max(self.page + delta, 0), self.pages - 1)
        if page != self.page:
            self.page = page
            self._render_page()

    def _render_page(self) -> None:
        keys = self.keys
        self.page = min(self.page, self.pages - 1)
        start = self.page * PAGE_SIZE
        page_keys = keys[start : start + PAGE_SIZE]
        for i, chart in enumerate(self.charts):
            if i >= len(page_keys):
                chart.display = False
                continue
            key = page_keys[i]
            chart.display = True
            if chart.title == key:
                chart.set_series(self.series[key])  # fresh data: keep this chart's zoom
            else:
                chart.title = key
                chart.state = ChartState(**self.view).with_series(self.series[key])
        # One row of charts when the page has two or fewer: they get the full height.
        self.query_one(Grid).styles.grid_size_rows = 1 if len(page_keys) <= 2 else 2
        self._status(keys, start, len(page_keys))

    def _status(self, keys: list[str], start: int, count: int) -> None:
        status = self.query_one(".charts-status", Static)
        if not self.loaded:
            return
        if not keys:
            if self.pattern is not None and self.series:
                status.update(safe(f"no key matches /{self.pattern.pattern}/", "italic"))
            else:
                status.update(Text(self.empty, style="italic"))
            return
        text = Text(f"keys {start + 1}–{start + count} of {len(keys)} · page ")
        text.append(f"{self.page + 1}/{self.pages}", style="bold")
        if self.pattern is not None:
            text.append_text(safe(f" · filter /{self.pattern.pattern}/", single_line=True))
        text.append(
            "  ·  ] [ page  / filter  s smooth  x axis  l log  o outliers  ← → cursor",
            style="dim",
        )
        status.update(text)

    @on(MetricChart.ViewChanged)
    def _sync(self, event: MetricChart.ViewChanged) -> None:
        """Apply one chart's shared settings to its siblings."""
        view = view_of(event.state)
        if view == self.view:
            return
        axis_changed = view["x_mode"] != self.view["x_mode"]
        self.view = view
        for chart in self.charts:
            if chart is event.chart:
                continue
            old = chart.state
            state = ChartState(**view).with_series(old.series)
            if not axis_changed:
                state = _with_position(state, old)
            chart.state = state


def _with_position(state: ChartState, old: ChartState) -> ChartState:
    """`state` keeping `old`'s cursor and zoom (same axis, so they still mean the same x)."""
    moved = replace(state, cursor=old.cursor, window=old.window)
    return moved.with_series(moved.series)  # clamps both to the data
