"""The compare screen with two runs and with fifty (paging, sideways scrolling, settings
shared by the charts)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from mmtop import store
from mmtop.tui.screens.compare import CompareScreen
from mmtop.tui.screens.help import HelpScreen
from mmtop.tui.widgets.chart_legend import ChartLegend
from mmtop.tui.widgets.compare_charts import ChartsGrid

SIZE = (120, 40)
Loaded = Callable[[Pilot[Any]], Awaitable[CompareScreen]]


async def test_two_runs_on_the_same_data(
    tmp_path: Path, make_store: Any, runs: Any, compare_app: Any, until_loaded: Loaded, ui: Any
) -> None:
    two = make_store(tmp_path / "mmruns", runs[:2])
    async with compare_app(two.root, two.ids).run_test(size=SIZE) as pilot:
        screen = await until_loaded(pilot)
        assert ui.head(screen) == "comparing 2 runs · baseline ◆ sgd-s1"
        assert ui.table(screen, "params").column_texts(0) == ["seed"]
        await pilot.press("5")
        assert ui.text(screen, "#env-banner") == "✓ same data: train, val (fingerprints match)"
        assert ui.table(screen, "env").row_count == 0

        screen.action_show_help()
        await pilot.pause()
        help_screen: object = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        await pilot.press("escape")
        assert pilot.app.screen is screen
        titles = [title for title, _, _ in screen.palette_commands()]
        assert titles[:3] == ["compare: back", "compare: baseline", "compare: group runs"]
        assert "compare: show charts" in titles


@pytest.fixture(scope="module")
def fifty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """50 runs, ten metric keys each."""
    root = tmp_path_factory.mktemp("fifty") / "mmruns"
    ids = []
    for i in range(50):
        with store.Run(
            experiment="sweep",
            name=f"run-{i:02d}",
            params={"lr": round(0.001 * (i + 1), 6), "seed": i % 3},
            root=root,
            capture_env=False,
            capture_code=False,
            capture_system=False,
        ) as run:
            for step in range(5):
                run.log({f"k{j:02d}": float(i + j + step) for j in range(10)}, step=step)
        ids.append(run.run_id)
    return root, ids


async def test_fifty_runs_scroll_and_page(
    fifty: tuple[Path, list[str]], compare_app: Any, until_loaded: Loaded, ui: Any
) -> None:
    root, ids = fifty
    async with compare_app(root, ids).run_test(size=SIZE) as pilot:
        screen = await until_loaded(pilot)
        params = ui.table(screen, "params")
        assert len(params.columns) == 51
        assert params.column_texts(0) == ["lr", "seed"]
        await pilot.press("end")  # the last run's column is reachable
        assert params.cursor_coordinate.column == 50
        assert params.text_at(0, 50) == "0.05"
        assert params.scroll_x > 0
        await pilot.press("2")
        assert len(ui.table(screen, "metrics").columns) == 52

        await pilot.press("3")
        grid = screen.query_one("#metric-charts", ChartsGrid)
        assert (grid.pages, grid.shown_keys) == (3, ["k00", "k01", "k02", "k03"])
        assert len(grid.charts[0].state.series) == 50
        await pilot.press("l", "s")  # on the focused chart, and so on all of them
        assert [(c.state.log_y, c.state.smoothing) for c in grid.charts] == [(True, 0.6)] * 4
        await pilot.press("right_square_bracket")
        assert grid.shown_keys == ["k04", "k05", "k06", "k07"]
        assert [c.state.log_y for c in grid.charts] == [True] * 4  # a new page keeps them
        await pilot.press("pagedown")
        assert grid.shown_keys == ["k08", "k09"]
        await pilot.press("right_square_bracket")  # nothing after the last page
        assert grid.page == 2
        await pilot.press("left_square_bracket", "left_square_bracket", "pageup")
        assert (grid.page, grid.shown_keys) == (0, ["k00", "k01", "k02", "k03"])
        await pilot.press("slash", *"k0[89]", "enter")
        assert (grid.pages, grid.shown_keys) == (1, ["k08", "k09"])


async def test_unknown_runs_are_named_and_one_run_still_shows(
    sample: Any, compare_app: Any, until_loaded: Loaded, ui: Any
) -> None:
    ids = [sample.ids[0], "20990101T000000Z-ffffff"]
    async with compare_app(sample.root, ids).run_test(size=SIZE) as pilot:
        screen = await until_loaded(pilot)
        assert ui.head(screen) == (
            "comparing 1 run · baseline ◆ sgd-s1 · not found: 20990101T000000Z-ffffff"
        )
        assert ui.table(screen, "params").row_count == 0
        assert ui.metric_row(screen, "val/acc", "last")[2:] == ["0.88"]
        await pilot.press("b", "3")  # one run: nothing to switch to, nothing breaks
        assert screen.baseline == 0
        grid = screen.query_one("#metric-charts", ChartsGrid)
        assert [len(c.state.series) for c in grid.charts if c.display] == [1, 1]


async def test_store_changes_reach_the_tables_and_charts(
    tmp_path: Path, compare_app: Any, until_loaded: Loaded, wait_for: Any, ui: Any
) -> None:
    from mmtop.tui.messages import StoreChanged

    runs = [
        store.Run(
            experiment="live",
            name=f"live-{i}",
            params={"lr": 0.1 * (i + 1)},
            root=tmp_path,
            capture_env=False,
            capture_code=False,
            capture_system=False,
        )
        for i in range(2)
    ]
    try:
        for run in runs:
            for step in range(3):
                run.log({"loss": 1.0 / (step + 1)}, step=step)
            run.flush()
        async with compare_app(tmp_path, [r.run_id for r in runs]).run_test(size=SIZE) as pilot:
            screen = await until_loaded(pilot)
            grid = screen.query_one("#metric-charts", ChartsGrid)
            assert [len(s) for s in grid.series["loss"]] == [3, 3]
            for run in runs:
                run.log({"loss": 0.1}, step=3)
                run.flush()
            screen.post_message(StoreChanged())
            await wait_for(pilot, lambda: [len(s) for s in grid.series["loss"]] == [4, 4])
            assert ui.metric_row(screen, "loss", "last")[2:] == ["★ 0.1", "★ 0.1  ="]
            # A change while another screen hides this one is read on return.
            await pilot.app.push_screen(Screen())
            runs[0].log({"loss": 0.05}, step=4)
            runs[0].flush()
            screen.post_message(StoreChanged())
            await pilot.pause()
            assert screen.loads == 2
            await pilot.app.pop_screen()
            await wait_for(pilot, lambda: [len(s) for s in grid.series["loss"]] == [5, 4])
    finally:
        for run in runs:
            run.finish()


async def test_legend_lists_every_run_with_its_value_at_the_cursor(
    fifty: tuple[Path, list[str]], compare_app: Any, until_loaded: Loaded, wait_for: Any
) -> None:
    root, ids = fifty
    async with compare_app(root, ids).run_test(size=SIZE) as pilot:
        screen = await until_loaded(pilot)
        await pilot.press("3")
        grid = screen.query_one("#metric-charts", ChartsGrid)
        legend = grid.query_one(ChartLegend)
        await wait_for(pilot, lambda: "run-49" in legend.text)
        lines = legend.text.splitlines()
        assert lines[:2] == ["k00 · latest step 4", "━ run-00 4"]
        assert lines[-1] == "━ run-49 53"
        assert len(lines) == 51  # every run, no "+48"
        # The charts name no run themselves: the legend does.
        chart_text = [[t for t, _ in line] for line in grid.charts[0].frame().lines]
        assert "run-" not in repr(chart_text)
        await pilot.press(*["left"] * 15)  # the cursor moves: the legend follows it
        where, first = legend.text.splitlines()[:2]
        assert where.startswith("k00 · ▸ step ") and where != "k00 · ▸ step 4"
        assert first == f"━ run-00 {where.removeprefix('k00 · ▸ step ')}"
        await pilot.press("tab")  # to the next chart: the legend describes it
        assert legend.text.splitlines()[0] == "k01 · latest step 4"
        legend.focus()
        await pilot.press("j", "j", "j")
        assert legend.scroll_y == 3
        await pilot.press("k")
        assert legend.scroll_y == 2


async def test_one_chart_a_page_at_80_columns(
    fifty: tuple[Path, list[str]], compare_app: Any, until_loaded: Loaded
) -> None:
    root, ids = fifty
    async with compare_app(root, ids).run_test(size=(80, 24)) as pilot:
        screen = await until_loaded(pilot)
        await pilot.press("3")
        grid = screen.query_one("#metric-charts", ChartsGrid)
        assert (grid.shape, grid.pages, grid.shown_keys) == ((1, 1), 10, ["k00"])
        await pilot.press("right_square_bracket")
        assert grid.shown_keys == ["k01"]
        chart = grid.charts[0]
        labels = [line for line in chart.frame().lines if len(line) > 1 and line[1][0] == "┤"]
        assert len(labels) >= 3
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert (grid.shape, grid.shown_keys) == ((2, 2), ["k00", "k01", "k02", "k03"])
