"""One colour per run (tui/run_colours.py): the table's swatch, the preview, the detail
screen's charts and the compare screen's charts and legend all use it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from mmtop.tui.charting.model import PALETTE
from mmtop.tui.run_colours import distinct, run_colours
from mmtop.tui.screens.compare import CompareScreen
from mmtop.tui.screens.detail import RunDetailScreen
from mmtop.tui.widgets.compare_charts import ChartsGrid
from mmtop.tui.widgets.metric_grid import MetricGrid
from mmtop.tui.widgets.preview import RunPreview
from mmtop.tui.widgets.runs_table import SWATCH, RunsTable

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def test_colour_follows_creation_order_and_stays_as_runs_are_added() -> None:
    frame = pl.DataFrame(
        {"run_id": ["c", "a", "b"], "created": [T0 + timedelta(2), T0, T0 + timedelta(1)]}
    )
    assert run_colours(frame) == {"a": PALETTE[0], "b": PALETTE[1], "c": PALETTE[2]}
    later = pl.concat([frame, pl.DataFrame({"run_id": ["d"], "created": [T0 + timedelta(3)]})])
    assert run_colours(later) == run_colours(frame) | {"d": PALETTE[3]}


def test_a_chart_never_shows_two_runs_alike_while_the_palette_lasts() -> None:
    colours = {"a": PALETTE[0], "k": PALETTE[0], "b": PALETTE[1]}
    assert distinct(["a", "b"], colours) == {"a": PALETTE[0], "b": PALETTE[1]}
    # `k` came 10 runs after `a`: in one chart with it, it takes the first free colour.
    assert distinct(["a", "b", "k"], colours) == {"a": PALETTE[0], "b": PALETTE[1], "k": PALETTE[2]}


async def test_one_colour_per_run_on_every_screen(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        table = app.screen.query_one(RunsTable)
        colours = table.model.colours
        assert len(set(colours.values())) == 6  # six runs made one after another
        first = table.current_run_id
        assert first is not None
        swatch = [s for s in table.render_line(1) if s.text == SWATCH]
        assert swatch and swatch[0].style is not None and swatch[0].style.color is not None
        assert swatch[0].style.color.name == colours[first]
        assert app.screen.query_one(RunPreview).colour == colours[first]

        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, RunDetailScreen)
        await h.wait_for(pilot, lambda: detail.history_loads >= 1)
        await pilot.press("3")
        grid = detail.query_one("#metrics-pane", MetricGrid).grid
        await h.wait_for(pilot, lambda: bool(grid.charts) and grid.charts[0].state.series)
        assert grid.charts[0].series_colors == [colours[first]]

        await pilot.press("escape", "space", "space", "c")
        await h.wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        await h.wait_for(pilot, lambda: compare.loads >= 1 and compare.charts_ready)
        await pilot.press("3")
        charts = compare.query_one("#metric-charts", ChartsGrid)
        await h.wait_for(pilot, lambda: bool(charts.charts) and charts.charts[0].state.series)
        ids = table.visible_ids()[:2]
        assert charts.charts[0].series_colors == [colours[i] for i in ids]
