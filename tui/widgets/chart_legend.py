"""`ChartLegend`: every series of one chart, each in its colour with its value at the chart's
cursor, in a scrollable list (a chart with 30 runs cannot name them all under its plot)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from mmtop.tui.charting.layout import cursor_label, readout_value
from mmtop.tui.safe_text import safe
from mmtop.tui.widgets.chart import MetricChart


def legend_text(chart: MetricChart | None, key: str | None) -> Text:
    """The chart's key and cursor position, then one line per series: ━ name value."""
    if chart is None or not chart.state.series:
        return Text("no chart", style="dim italic")
    state = chart.state
    text = Text(no_wrap=True, overflow="ellipsis")
    if key:
        text.append_text(safe(key, "bold", single_line=True))
        text.append(" · ", style="dim")
    text.append(cursor_label(state), style="dim")
    for r, color in zip(state.readouts(), chart.series_colors, strict=True):
        text.append("\n━ ", style=color)
        text.append_text(safe(state.series[r.index].name, color, single_line=True))
        text.append(" " + readout_value(r), style="bold")
    return text


class ChartLegend(VerticalScroll):
    """Scrolls with the wheel, or `j`/`k`/arrows once focused (`tab` reaches it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False, id="legend.down"),
        Binding("k", "scroll_up", "Up", show=False, id="legend.up"),
    ]
    DEFAULT_CSS = """
    ChartLegend { height: 1fr; padding: 0 1; }
    ChartLegend > Static { width: 1fr; height: auto; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("", classes="legend-text")

    def show(self, chart: MetricChart | None, key: str | None) -> None:
        self.query_one(".legend-text", Static).update(legend_text(chart, key))

    @property
    def text(self) -> str:
        return str(self.query_one(".legend-text", Static).render())
