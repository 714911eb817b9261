"""MetricChart in a running app: keys change the view, the read-out is on screen.

The project has no async pytest plugin, so each test runs its Pilot session with asyncio.run.
"""

from __future__ import annotations

import asyncio
from typing import cast

import numpy as np
import pytest
from rich.style import Style
from textual.app import App, ComposeResult

from mmtop.tui.charting import ChartState, Series
from mmtop.tui.widgets.chart import MetricChart

STEPS = np.arange(0, 101)


def two_series() -> list[Series]:
    return [
        Series("alpha", STEPS, STEPS / 100.0, times=1.795e9 + STEPS * 10.0),
        Series("beta\x1b[31m", STEPS, STEPS / 50.0, times=1.795e9 + STEPS * 10.0),
    ]


class ChartApp(App[None]):
    def __init__(self, series: list[Series]) -> None:
        super().__init__()
        self.series = series
        self.views: list[ChartState] = []

    def compose(self) -> ComposeResult:
        yield MetricChart(self.series, title="val/loss")

    def on_metric_chart_view_changed(self, event: MetricChart.ViewChanged) -> None:
        self.views.append(event.state)


def screen_text(chart: MetricChart) -> list[str]:
    return [chart.render_line(y).text for y in range(chart.size.height)]


def test_keys_change_the_view_and_the_readout_follows_the_cursor() -> None:
    asyncio.run(_keys_change_the_view())


async def _keys_change_the_view() -> None:
    app = ChartApp(two_series())
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(MetricChart)
        chart.focus()
        await pilot.pause()
        text = screen_text(chart)
        assert text[0].startswith("val/loss")
        assert text[-1].rstrip() == "latest step 100 │ alpha 1  beta 2"
        assert chart.frame().plot_width == 76  # 3-cell y labels and the axis

        await pilot.press("left")
        assert chart.state.cursor == pytest.approx(100 - 100 / 76)
        assert screen_text(chart)[-1].rstrip() == "▸ step 99 │ alpha 0.99  beta 1.98"

        await pilot.press("s")
        assert chart.state.smoothing == 0.6
        await pilot.press("s", "S")
        assert chart.state.smoothing == 0.6
        await pilot.press("S")
        assert chart.state.smoothing == 0.0
        await pilot.press("l", "o")
        assert (chart.state.log_y, chart.state.robust_y) == (True, True)
        assert "log y · outliers ignored" in screen_text(chart)[0]
        await pilot.press("l", "o")

        await pilot.press("plus")
        lo, hi = chart.state.window or (0, 0)
        assert hi - lo == pytest.approx(50.0)
        await pilot.press("less_than_sign")
        assert chart.state.window == pytest.approx((lo - 12.5, hi - 12.5))
        await pilot.press("shift+right")
        assert chart.state.window == pytest.approx((lo, hi))
        await pilot.press("greater_than_sign")  # would pass the newest point: stops there
        assert chart.state.window == pytest.approx((50.0, 100.0))
        await pilot.press("minus")
        assert chart.state.window is None

        await pilot.press("x")
        assert chart.state.x_mode == "relative"
        assert screen_text(chart)[-1].rstrip() == "latest time 16m40s │ alpha 1  beta 2"
        await pilot.press("x", "x")
        # The presses changed x_mode; mypy still holds the "relative" narrowed above.
        assert cast(str, chart.state.x_mode) == "step"
        assert len(app.views) == 17  # every key above that changed something said so


def test_set_series_keeps_the_view_and_names_stay_inert() -> None:
    asyncio.run(_set_series_keeps_the_view())


async def _set_series_keeps_the_view() -> None:
    app = ChartApp([])
    async with app.run_test(size=(60, 16)) as pilot:
        chart = app.query_one(MetricChart)
        assert any("no data" in line for line in screen_text(chart))
        chart.state = chart.state.smoother().toggled_log()
        chart.set_series(two_series())
        await pilot.pause()
        assert (chart.state.smoothing, chart.state.log_y) == (0.6, True)
        text = "\n".join(screen_text(chart))
        assert "beta" in text and "\x1b" not in text
        # Each series' name is drawn in its own colour.
        legend = chart.render_line(chart.size.height - 2)
        colors = {}
        for seg in legend:
            if seg.text.strip():
                assert seg.style is not None
                colors[seg.text] = seg.style.color
        assert colors["alpha"] != colors["beta"]
        assert colors["alpha"] == Style.parse(chart.series_colors[0]).color


def test_no_color_filters_every_colour_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    asyncio.run(_no_color_filters())


async def _no_color_filters() -> None:
    app = ChartApp(two_series())
    async with app.run_test(size=(60, 16)):
        chart = app.query_one(MetricChart)
        assert app.no_color
        background = app.screen.styles.background
        seen = 0
        for y in range(chart.size.height):
            strip = chart.render_line(y)
            for line_filter in app.get_line_filters():
                strip = strip.apply_filter(line_filter, background)
            for seg in strip:
                color = seg.style.color if seg.style else None
                if color is not None and seg.text.strip():
                    r, g, b = color.get_truecolor()
                    assert r == g == b, f"{seg.text!r} is still coloured"
                    seen += 1
        assert seen > 0


def test_bindings_have_ids_and_descriptions() -> None:
    bindings = {b.id: (b.key, b.description) for b in MetricChart.BINDINGS}  # type: ignore[union-attr]
    assert set(bindings) == {
        "chart.smooth_more", "chart.smooth_less", "chart.cycle_x", "chart.log_y",
        "chart.outliers", "chart.cursor_left", "chart.cursor_right", "chart.zoom_in",
        "chart.zoom_out", "chart.pan_left", "chart.pan_right",
    }  # fmt: skip
    assert all(description for _, description in bindings.values())
    assert bindings["chart.smooth_less"][0] == "S"
