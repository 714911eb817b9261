"""Metrics and system tabs: one chart per key, narrowed by a regex typed above them."""

from __future__ import annotations

import re
from typing import Any

import polars as pl
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from mmtop.tui.charting import Series
from mmtop.tui.safe_text import safe
from mmtop.tui.widgets.chart import MetricChart


def chart_id(key: str, index: int) -> str:
    """Widget ids allow only [A-Za-z0-9_-]; keys like `val/acc` do not qualify."""
    return f"chart-{index}-" + re.sub(r"[^A-Za-z0-9_-]", "_", key)[:40]


def series_by_key(frame: pl.DataFrame, run_name: str) -> dict[str, Series]:
    """One Series per metric key, with wall times so the chart can switch x axes."""
    out: dict[str, Series] = {}
    if frame.height == 0:
        return out
    data = frame.with_columns((pl.col("time").dt.epoch("us") / 1e6).alias("t"))
    for (key,), part in data.sort("key", "step").group_by("key", maintain_order=True):
        out[str(key)] = Series(
            run_name,
            part.get_column("step").to_numpy(),
            part.get_column("value").to_numpy(),
            times=part.get_column("t").to_numpy(),
        )
    return out


class MetricGrid(Vertical):
    BINDINGS = [Binding("slash", "search", "Filter charts by regex", id="charts.search")]
    DEFAULT_CSS = """
    MetricGrid #charts { height: 1fr; }
    MetricGrid MetricChart { height: 12; min-height: 8; margin-bottom: 1; }
    MetricGrid .charts-error { color: $error; height: auto; }
    """

    def __init__(self, empty: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.empty = empty
        self.charts: dict[str, MetricChart] = {}
        self.pattern: re.Pattern[str] | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="regex over metric keys, e.g. ^val/|loss", classes="search-input")
        yield Static("", classes="charts-error")
        with VerticalScroll(id="charts"):
            yield Static(Text("loading…", style="dim"), classes="nothing")

    def show(self, frame: pl.DataFrame, run_name: str) -> None:
        series = series_by_key(frame, run_name)
        box = self.query_one("#charts", VerticalScroll)
        placeholder = box.query(".nothing")
        if not series:
            if placeholder:
                placeholder.first(Static).update(Text(self.empty, style="dim"))
            return
        placeholder.remove()
        new: list[MetricChart] = []
        for key, s in series.items():
            chart = self.charts.get(key)
            if chart is None:
                chart = MetricChart([s], title=key, id=chart_id(key, len(self.charts)))
                self.charts[key] = chart
                new.append(chart)
            else:
                chart.set_series([s])
        if new:
            box.mount_all(new)
        self._apply_filter()

    def _apply_filter(self) -> None:
        for key, chart in self.charts.items():
            chart.display = self.pattern is None or bool(self.pattern.search(key))

    @on(Input.Changed)
    def _filter(self, event: Input.Changed) -> None:
        error = self.query_one(".charts-error", Static)
        try:
            self.pattern = re.compile(event.value, re.IGNORECASE) if event.value else None
        except re.error as exc:
            error.update(safe(f"✗ {exc}"))
            return
        error.update("")
        self._apply_filter()

    def action_search(self) -> None:
        self.query_one(Input).focus()

    @property
    def shown_keys(self) -> list[str]:
        return [k for k, c in self.charts.items() if c.display]
