"""Metrics and system tabs: pages of small charts, one per key, narrowed by a regex typed
above them; keys whose values change come before constants."""

from __future__ import annotations

import re
from typing import Any

import polars as pl
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from mmtop.tui.charting import Series
from mmtop.tui.safe_text import safe
from mmtop.tui.widgets.compare_charts import ChartsGrid


def series_by_key(
    frame: pl.DataFrame, run_name: str, colour: str | None = None
) -> dict[str, Series]:
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
            color=colour,
        )
    return out


class MetricGrid(Vertical):
    BINDINGS = [Binding("slash", "search", "Filter charts by regex", id="charts.search")]
    DEFAULT_CSS = """
    MetricGrid ChartsGrid { height: 1fr; }
    MetricGrid .charts-error { color: $error; height: auto; }
    """

    def __init__(self, empty: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.empty = empty

    def compose(self) -> ComposeResult:
        yield Input(placeholder="regex over metric keys, e.g. ^val/|loss", classes="search-input")
        error = Static("", classes="charts-error")
        error.display = False
        yield error
        yield ChartsGrid(self.empty, legend=False, id=f"{self.id or 'metric'}-grid")

    @property
    def grid(self) -> ChartsGrid:
        return self.query_one(ChartsGrid)

    def show(self, frame: pl.DataFrame, run_name: str, colour: str | None = None) -> None:
        series = series_by_key(frame, run_name, colour)
        self.grid.set_data({key: [s] for key, s in series.items()})

    @on(Input.Changed)
    def _filter(self, event: Input.Changed) -> None:
        error = self.query_one(".charts-error", Static)
        try:
            pattern = re.compile(event.value, re.IGNORECASE) if event.value else None
        except re.error as exc:
            error.update(safe(f"✗ {exc}"))
            error.display = True
            return
        error.update("")
        error.display = False
        self.grid.set_filter(pattern)

    def action_search(self) -> None:
        self.query_one(Input).focus()

    @property
    def keys(self) -> list[str]:
        """Every key with a chart, in the order shown (the filter aside)."""
        return list(self.grid.all_keys)

    @property
    def shown_keys(self) -> list[str]:
        """Keys passing the filter, on every page."""
        return self.grid.keys
