"""`ChartLegend`: every series of one chart, each in its colour with its value at the chart's
cursor, in a scrollable list (a chart with 30 runs cannot name them all under its plot)."""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from mmtop.tui.charting.layout import cursor_label, readout_value
from mmtop.tui.formatting import fit
from mmtop.tui.safe_text import clean, safe
from mmtop.tui.widgets.chart import MetricChart


def middle_cut(name: str, width: int) -> str:
    """`name` in `width` cells, cut in the middle: run names of a sweep differ at their ends
    (`sgd-…lr0.05-s2`), so both ends stay."""
    if cell_len(name) <= width:
        return name
    tail = (width - 1) // 2
    head = fit(name, width - tail)[:-1]  # fit ends in …; keep the head without it
    return head + "…" + name[-tail:] if tail else fit(name, width)


def legend_text(chart: MetricChart | None, key: str | None, width: int = 0) -> Text:
    """The chart's key and cursor position, then one line per series: ━ name value, the
    name cut with … so that each line fits `width` cells (0: no limit) and the value shows."""
    if chart is None or not chart.state.series:
        return Text("no chart", style="dim italic")
    state = chart.state
    text = Text(no_wrap=True, overflow="ellipsis")
    if key:
        text.append_text(safe(key, "bold", single_line=True))
        text.append(" · ", style="dim")
    text.append(cursor_label(state), style="dim")
    for r, color in zip(state.readouts(), chart.series_colors, strict=True):
        value = readout_value(r)
        name = clean(state.series[r.index].name, single_line=True)
        if width:
            name = middle_cut(name, max(4, width - 3 - cell_len(value)))
        text.append("\n━ ", style=color)
        text.append(name, style=color)
        text.append(" " + value, style="bold")
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
        width = self.scrollable_content_region.width
        self.query_one(".legend-text", Static).update(legend_text(chart, key, width))

    @property
    def text(self) -> str:
        return str(self.query_one(".legend-text", Static).render())
