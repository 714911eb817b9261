"""Pages of small charts, one per metric key, for the compare screen and the run detail tabs.

Every run (or group, drawn as its mean with a ±1 std band) is one series, in the same
colour on every chart. The grid fits its size: one chart a row below 90 columns, two up to
125, three from 126; a row per 12 lines or so. Keys come most interesting first (see
`charting.order`). A legend beside the charts (below them when narrow) lists every series of
the focused chart with its value at the cursor. A regex narrows the keys; `]`/`[` (or page
down/up) turn pages.
Histories are read per page of keys, so a project with hundreds of keys opens as fast as
one with four.
Smoothing, x axis, log y and outlier settings changed on one chart apply to all of them,
so the runs can be read side by side; the cursor and zoom stay with each chart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Grid, Vertical
from textual.events import DescendantFocus, Resize
from textual.message import Message
from textual.widgets import Static

from mmtop.tui.charting import ChartState, Series
from mmtop.tui.charting.order import interesting_first
from mmtop.tui.compare_series import ChartSource, read_series
from mmtop.tui.safe_text import safe
from mmtop.tui.widgets.chart import MetricChart
from mmtop.tui.widgets.chart_legend import ChartLegend
from mmtop.tui.workers import ReportsFailedWorkers

MAX_COLUMNS = 3
MAX_ROWS = 3
COLUMN_WIDTH = 42  # cells a chart needs for its axis labels and a readable curve
ROW_HEIGHT = 12  # lines: title, 6+ plot rows with 3+ labels, x axis, read-out
LEGEND_WIDTH = 32
LEGEND_BESIDE_FROM = 110  # narrower grids put the legend under the charts
LEGEND_HEIGHT = 5
HINT = "  ·  ] [ page  / filter  s smooth  x axis  l log  o outliers  ← → cursor"
SHORT_HINT = "  ·  ] [ page  / filter  ? keys"  # one line at 80 columns


def grid_shape(width: int, height: int) -> tuple[int, int]:
    """(columns, rows) of charts that stay readable in `width` x `height` cells."""
    cols = min(MAX_COLUMNS, max(1, width // COLUMN_WIDTH))
    rows = min(MAX_ROWS, max(1, height // ROW_HEIGHT))
    return cols, rows


def key_ranges(series: Mapping[str, Sequence[Series]]) -> dict[str, list[tuple[float, float]]]:
    """key -> (min, max) of each series' finite values, for `interesting_first`."""
    out: dict[str, list[tuple[float, float]]] = {}
    for key, items in series.items():
        ranges = []
        for s in items:
            finite = s.values[np.isfinite(s.values)]
            if len(finite):
                ranges.append((float(finite.min()), float(finite.max())))
        out[key] = ranges
    return out


def view_of(state: ChartState) -> dict[str, Any]:
    """The settings shared by all charts of a grid."""
    return {
        "x_mode": state.x_mode,
        "smoothing": state.smoothing,
        "log_y": state.log_y,
        "robust_y": state.robust_y,
    }


class ChartsGrid(ReportsFailedWorkers, Vertical):
    """Pages of charts over a known list of keys. Given a `ChartSource`, the grid reads in
    thread workers the series of the keys its page shows, and of the next page, as they
    come into view; a page draws as soon as its own keys are read."""

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
    DEFAULT_CSS = f"""
    ChartsGrid > .charts-status {{ height: auto; padding: 0 1; color: $text-muted; }}
    ChartsGrid > .charts-body {{ height: 1fr; layout: horizontal; }}
    ChartsGrid > .charts-body.-below {{ layout: vertical; }}
    ChartsGrid Grid {{ grid-size: 2 2; grid-gutter: 0 1; height: 1fr; width: 1fr; }}
    ChartsGrid MetricChart {{ height: 1fr; min-height: 6; }}
    ChartsGrid ChartLegend {{
        width: {LEGEND_WIDTH}; height: 1fr; border-left: solid $panel-lighten-2;
    }}
    ChartsGrid .-below ChartLegend {{
        width: 1fr; height: {LEGEND_HEIGHT}; border-left: none; border-top: solid $panel-lighten-2;
    }}
    """

    class SeriesRead(Message):
        """A worker read the series of some keys (all keys when `keys` is None)."""

        def __init__(
            self,
            generation: int,
            keys: list[str] | None,
            series: dict[str, list[Series]],
            error: str | None = None,
        ) -> None:
            super().__init__()
            self.generation = generation
            self.keys = keys
            self.series = series
            self.error = error

    def __init__(self, empty: str, *, legend: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.empty = empty
        self.with_legend = legend  # False: each chart names its own (single) series
        self.all_keys: list[str] = []
        self.series: dict[str, list[Series]] = {}
        self.pattern: re.Pattern[str] | None = None
        self.page = 0
        self.view: dict[str, Any] = view_of(ChartState())
        self.loaded = False
        self.source: ChartSource | None = None
        self.error: str | None = None
        self.shape = (2, 2)  # (columns, rows): set from the size before the first page
        self._slots: list[str | None] = [
            None for _ in range(MAX_COLUMNS * MAX_ROWS)
        ]  # key per chart
        self._current: MetricChart | None = None  # the chart the legend describes
        self._generation = 0  # bumped by set_source: older reads are dropped
        self._fresh: set[str] = set()  # keys read from the current source
        self._inflight: set[str] = set()
        self._whole = False  # the source is read whole (keys unknown beforehand)

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), classes="charts-status")
        with Container(classes="charts-body"):
            with Grid():
                for i in range(MAX_COLUMNS * MAX_ROWS):
                    yield MetricChart(
                        classes="compare-chart",
                        id=f"{self.id or 'charts'}-{i}",
                        legend=not self.with_legend,
                    )
            if self.with_legend:
                yield ChartLegend()

    def on_mount(self) -> None:
        # A guess until the first Resize: the screen less a header, tabs and footer.
        self._fit(self.app.size.width, self.app.size.height - 6)

    @property
    def page_size(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def charts(self) -> list[MetricChart]:
        """The charts of a page (more are kept hidden for larger sizes)."""
        return list(self.query(MetricChart))[: self.page_size]

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Choose the grid's shape for this size; the first key on the page stays on it."""
        below = width < LEGEND_BESIDE_FROM
        if self.with_legend:
            self.query_one(".charts-body").set_class(below, "-below")
        chart_w = width - (0 if below or not self.with_legend else LEGEND_WIDTH)
        chart_h = height - 1 - (LEGEND_HEIGHT if self.with_legend and below else 0)
        shape = grid_shape(chart_w, chart_h)
        if shape == self.shape:
            keys = self.keys
            start = self.page * self.page_size
            self._status(keys, start, len(keys[start : start + self.page_size]))
            return
        first = self.page * self.page_size
        self.shape = shape
        self.page = first // self.page_size
        grid = self.query_one(Grid)
        grid.styles.grid_size_columns = shape[0]
        self._render_page()

    @property
    def keys(self) -> list[str]:
        """Keys passing the filter, in order."""
        return [k for k in self.all_keys if self.pattern is None or self.pattern.search(k)]

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.keys) // self.page_size))

    @property
    def shown_keys(self) -> list[str]:
        """Keys on the current page, in the charts' order."""
        return [k for k, c in zip(self._slots, self.charts, strict=False) if k and c.display]

    @property
    def ready(self) -> bool:
        """Everything the current page shows has been read from the current source."""
        if self.source is None or not self.loaded:
            return False
        if self._whole:
            return not self._inflight
        start = self.page * self.page_size
        return all(k in self._fresh for k in self.keys[start : start + self.page_size])

    def set_source(
        self, source: ChartSource, keys: Sequence[str] | None, *, clear: bool = False
    ) -> None:
        """Read series from `source` from now on: for `keys` page by page, or every key at
        once when None (small histories such as system samples, whose keys are known only
        by reading them). Shown series stay until new ones arrive unless `clear`."""
        self.source = source
        self._generation += 1
        self._fresh.clear()
        self._inflight.clear()
        self._whole = keys is None
        if clear:
            self.series = {}
        if keys is None:
            self._inflight.add("*")
            self._read(self._generation, source, None)
            if clear:
                self._render_page()
            return
        self.set_keys(keys)

    def _want(self, keys: Sequence[str]) -> None:
        if self.source is None or self._whole:
            return
        wanted = [k for k in keys if k not in self._fresh and k not in self._inflight]
        if wanted:
            self._inflight.update(wanted)
            self._read(self._generation, self.source, wanted)

    @work(thread=True, group="compare-series", exit_on_error=False)
    def _read(self, generation: int, source: ChartSource, keys: list[str] | None) -> None:
        try:
            series = read_series(source, keys)
        except Exception as exc:  # noqa: BLE001 - a bad part costs its charts only
            error = f"{type(exc).__name__}: {exc}"
            self.post_message(self.SeriesRead(generation, keys, {}, error))
            return
        self.post_message(self.SeriesRead(generation, keys, series))

    def on_charts_grid_series_read(self, message: SeriesRead) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self.error = message.error
        if message.keys is None:
            self._inflight.clear()
            self._fresh.update(message.series)
            self.set_data(message.series)
            return
        self._inflight.difference_update(message.keys)
        self._fresh.update(message.keys)  # failed keys too: no retry loop, the status says
        self.add_series(message.series or {k: [] for k in message.keys})

    def set_keys(self, keys: Sequence[str]) -> None:
        """The keys there are charts for, in the order shown (series may come later)."""
        self.all_keys = list(keys)
        self.loaded = True
        self._render_page()

    def set_data(self, series: dict[str, list[Series]]) -> None:
        """All keys and all series at once; keys whose values change come first."""
        self.series = dict(series)
        self.set_keys(interesting_first(list(series), key_ranges(series)))

    def add_series(self, series: Mapping[str, list[Series]]) -> None:
        """Series of some keys (an empty list: the key has no points in these runs)."""
        self.series.update(series)
        if any(k in series for k in self._slots):
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
        size = self.page_size
        self.page = min(self.page, self.pages - 1)
        start = self.page * size
        page_keys = keys[start : start + size]
        for i, chart in enumerate(self.query(MetricChart)):
            key = page_keys[i] if i < len(page_keys) else None
            chart.display = key is not None
            if key is None:
                self._slots[i] = None
                continue
            series = self.series.get(key)
            chart.title = key if series is not None else f"{key} · loading…"
            if self._slots[i] == key:
                chart.set_series(series or [])  # fresh data: keep this chart's zoom
            else:
                self._slots[i] = key
                chart.state = ChartState(**self.view).with_series(series or [])
        # Fewer charts than the page holds get the whole height.
        cols = self.shape[0]
        self.query_one(Grid).styles.grid_size_rows = max(1, -(-len(page_keys) // cols))
        self._status(keys, start, len(page_keys))
        self._show_legend()
        # This page's keys first; once they are in, the next page's, so turning it is quick.
        if all(k in self._fresh for k in page_keys):
            self._want(keys[start + size : start + 2 * size])
        else:
            self._want(page_keys)

    def _show_legend(self) -> None:
        if not self.with_legend:
            return
        shown = [c for c in self.charts if c.display]
        chart = self._current if self._current in shown else (shown[0] if shown else None)
        key = None
        if chart is not None:
            key = self._slots[list(self.query(MetricChart)).index(chart)]
        self.query_one(ChartLegend).show(chart, key)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        if isinstance(event.widget, MetricChart):
            self._current = event.widget
            self._show_legend()

    def _status(self, keys: list[str], start: int, count: int) -> None:
        status = self.query_one(".charts-status", Static)
        if not self.loaded:
            return
        if not keys:
            if self.error:
                status.update(safe(f"✗ {self.error}", "bold red"))
            elif self.pattern is not None and self.all_keys:
                status.update(safe(f"no key matches /{self.pattern.pattern}/", "italic"))
            else:
                status.update(Text(self.empty, style="italic"))
            return
        text = Text()
        if self.error:
            text.append_text(safe(f"✗ {self.error}\n", "bold red"))
        text.append(f"keys {start + 1}–{start + count} of {len(keys)} · page ")
        text.append(f"{self.page + 1}/{self.pages}", style="bold")
        if self.pattern is not None:
            text.append_text(safe(f" · filter /{self.pattern.pattern}/", single_line=True))
        width = self.size.width or self.app.size.width
        text.append(HINT if width >= 100 else SHORT_HINT, style="dim")
        status.update(text)

    @on(MetricChart.ViewChanged)
    def _sync(self, event: MetricChart.ViewChanged) -> None:
        """Apply one chart's shared settings to its siblings."""
        self._current = event.chart
        self._show_legend()
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
