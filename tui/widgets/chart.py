"""`MetricChart`: a focusable line chart of metric series, drawn in braille.

Usage::

    from mmtop.tui.charting import Series
    from mmtop.tui.widgets.chart import MetricChart

    chart = MetricChart(title="val/loss")
    chart.set_series([
        Series("run-a", steps, values, times=times),       # numpy arrays or lists
        Series("lr=0.1", steps, mean, band=(mean - std, mean + std)),
    ])

Keys: s/S smoothing up/down, x cycle x axis (step, relative time, wall time), l log y,
o ignore outliers, left/right move the cursor, +/- zoom, </> (or shift+left/right) pan.
All maths and layout live in `tui.charting` (pure, tested without an app); this widget
holds one immutable `ChartState` in `state`, maps style keys to Rich styles and paints lines
with the Line API. Every text run, series names included, goes through `safe_text.safe`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import ClassVar

from rich.color import Color, ColorParseError
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from mmtop.tui.charting.layout import Frame, build_frame
from mmtop.tui.charting.model import ChartState, Series, palette_colors
from mmtop.tui.safe_text import safe


class MetricChart(Widget, can_focus=True):
    """A line chart of one or more series with smoothing, axis modes, zoom and a cursor."""

    DEFAULT_CSS = """
    MetricChart {
        height: 1fr;
        min-height: 8;
    }
    MetricChart > .metric-chart--title { text-style: bold; }
    MetricChart > .metric-chart--status { color: $text-muted; }
    MetricChart > .metric-chart--axis { color: $text-muted; }
    MetricChart > .metric-chart--label { color: $text-muted; }
    MetricChart > .metric-chart--cursor { color: $accent; }
    MetricChart > .metric-chart--muted { color: $text-muted; text-style: italic; }
    """

    COMPONENT_CLASSES = {
        "metric-chart--title",
        "metric-chart--status",
        "metric-chart--axis",
        "metric-chart--label",
        "metric-chart--cursor",
        "metric-chart--muted",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "smooth(1)", "Smooth more", id="chart.smooth_more"),
        Binding("S", "smooth(-1)", "Smooth less", id="chart.smooth_less"),
        Binding("x", "cycle_x", "X axis", id="chart.cycle_x"),
        Binding("l", "toggle_log", "Log y", id="chart.log_y"),
        Binding("o", "toggle_outliers", "Ignore outliers", id="chart.outliers"),
        Binding("left", "cursor(-1)", "Cursor left", show=False, id="chart.cursor_left"),
        Binding("right", "cursor(1)", "Cursor right", show=False, id="chart.cursor_right"),
        Binding("plus,equals_sign", "zoom(0.5)", "Zoom in", key_display="+", id="chart.zoom_in"),
        Binding("minus", "zoom(2)", "Zoom out", key_display="-", id="chart.zoom_out"),
        Binding(
            "less_than_sign,shift+left", "pan(-1)", "Pan left", show=False, id="chart.pan_left"
        ),
        Binding(
            "greater_than_sign,shift+right", "pan(1)", "Pan right", show=False, id="chart.pan_right"
        ),
    ]

    title: reactive[str] = reactive("")
    """Shown on the first line (untrusted text is fine: it is made inert)."""

    state: reactive[ChartState] = reactive(ChartState)
    """The whole view: series and settings. Set it to restore a view; actions replace it."""

    class ViewChanged(Message):
        """A key changed the view (smoothing, axis, zoom, cursor, ...), e.g. to keep sibling
        charts in step: `other.state = other.state ...` with the same settings."""

        def __init__(self, chart: MetricChart, state: ChartState) -> None:
            super().__init__()
            self.chart = chart
            self.state = state

        @property
        def control(self) -> MetricChart:
            return self.chart

    def __init__(
        self,
        series: Iterable[Series] = (),
        *,
        title: str = "",
        name: str | None = None,
        id: str | None = None,  # Textual's own parameter name
        classes: str | None = None,
        disabled: bool = False,
        legend: bool = True,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.legend = legend  # False: a `ChartLegend` beside the chart lists the series
        self.set_reactive(MetricChart.title, title)
        self.set_reactive(MetricChart.state, ChartState().with_series(series))
        self._frame_key: tuple[object, ...] | None = None
        self._strips: list[Strip] = []
        self._plot_width = 0

    # --- public API ----------------------------------------------------------------------

    def set_series(self, series: Iterable[Series]) -> None:
        """Replace the data, keeping smoothing, axis mode, log/robust y and zoom."""
        self.state = self.state.with_series(series)

    @property
    def series_colors(self) -> list[str]:
        """The colour of each series, in order: its own if valid, else from the palette."""
        series = self.state.series
        fallback = palette_colors([s.name for s in series])
        return [_valid_color(s.color) or c for s, c in zip(series, fallback, strict=True)]

    # --- actions -------------------------------------------------------------------------

    def _change(self, state: ChartState) -> None:
        if state != self.state:
            self.state = state
            self.post_message(self.ViewChanged(self, state))

    def action_smooth(self, direction: int) -> None:
        self._change(self.state.smoother(direction))

    def action_cycle_x(self) -> None:
        self._change(self.state.next_x_mode())

    def action_toggle_log(self) -> None:
        self._change(self.state.toggled_log())

    def action_toggle_outliers(self) -> None:
        self._change(self.state.toggled_robust())

    def action_cursor(self, cells: int) -> None:
        self._change(self.state.cursor_moved(cells, max(1, self._plot_width)))

    def action_zoom(self, factor: float) -> None:
        self._change(self.state.zoomed(factor))

    def action_pan(self, direction: int) -> None:
        self._change(self.state.panned(direction))

    # --- rendering -----------------------------------------------------------------------

    def frame(self) -> Frame:
        """The current layout (pure data), e.g. for tests and for the read-out text."""
        return build_frame(
            self.state, self.size.width, self.size.height, self.title, legend=self.legend
        )

    def _build(self) -> list[Strip]:
        key = (self.size, self.state, self.title, self.rich_style, self.app.theme)
        if key == self._frame_key:
            return self._strips
        frame = self.frame()
        self._plot_width = frame.plot_width
        base = self.rich_style
        styles = self._styles()
        width = self.size.width
        strips = []
        for runs in frame.lines:
            text = safe("", single_line=True)
            for chunk, style_key in runs:
                part = safe(chunk, single_line=True)
                part.stylize(base + styles.get(style_key, Style()))
                text.append_text(part)
            strips.append(Strip(text.render(self.app.console)).adjust_cell_length(width, base))
        self._frame_key, self._strips = key, strips
        return strips

    def _styles(self) -> dict[Hashable, Style]:
        styles: dict[Hashable, Style] = {
            name: self.get_component_rich_style(f"metric-chart--{name}", partial=True)
            for name in ("title", "status", "axis", "label", "cursor", "muted")
        }
        for i, color in enumerate(self.series_colors):
            line = Style(color=color)
            styles[("series", i, "line")] = line
            styles[("series", i, "faint")] = line + Style(dim=True)
            styles[("series", i, "band")] = line + Style(dim=True)
            styles[("name", i)] = line
            styles[("value", i)] = line
        return styles

    def render_line(self, y: int) -> Strip:
        strips = self._build()
        if 0 <= y < len(strips):
            return strips[y]
        return Strip.blank(self.size.width, self.rich_style)


def _valid_color(color: str | None) -> str | None:
    if not color:
        return None
    try:
        Color.parse(color)
    except ColorParseError:
        return None
    return color
