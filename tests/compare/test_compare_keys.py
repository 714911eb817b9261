"""The compare screen driven by its keys (Pilot) over four runs: two seeds of sgd, two of
adam, the last trained on other data. Few app sessions, many checks each: starting an app
is the slow part on a busy machine."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import Footer, Input, OptionList, TabbedContent
from textual.widgets._footer import FooterKey

from mmtop.tui.grouping import ALL_BUT_SEEDS
from mmtop.tui.screens.compare import CompareScreen
from mmtop.tui.widgets.compare_charts import ChartsGrid
from mmtop.tui.widgets.compare_grouping import GroupPicker

SIZE = (120, 40)
Loaded = Callable[[Pilot[Any]], Awaitable[CompareScreen]]


async def test_params_baseline_directions_and_env(
    sample: Any, compare_app: Any, until_loaded: Loaded, ui: Any
) -> None:
    async with compare_app(sample.root, sample.ids).run_test(size=SIZE) as pilot:
        screen = await until_loaded(pilot)
        # Params: diff only (batch is 32 everywhere), `a` shows all, nested keys flattened.
        params = ui.table(screen, "params")
        assert params.has_focus
        assert params.column_texts(0) == ["lr", "model.depth", "model.kind", "seed"]
        assert [params.text_at(0, c) for c in range(5)] == ["lr", "0.1", "0.1", "0.01", "0.01"]
        await pilot.press("a")
        assert params.column_texts(0) == ["batch", "lr", "model.depth", "model.kind", "seed"]
        await pilot.press("a")
        assert params.row_count == 4

        # Metrics: deltas against the first run until `b` picks the highlighted one.
        await pilot.press("2")
        assert screen.active_tab == "metrics"
        assert ui.metric_row(screen, "train/loss", "last")[2:] == [
            "★ 0.1",
            "0.15  +0.05 (+50.0%)",
            "0.2  +0.1 (+100.0%)",
            "0.25  +0.15 (+150.0%)",
        ]
        metrics = ui.table(screen, "metrics")
        assert metrics.has_focus
        metrics.cursor_coordinate = Coordinate(0, 4)  # adam-s1's column
        await pilot.press("b")
        assert screen.baseline == 2
        assert "baseline ◆ adam-s1" in ui.head(screen)
        assert ui.metric_row(screen, "train/loss", "last")[2:] == [
            "★ 0.1  -0.1 (-50.0%)",
            "0.15  -0.05 (-25.0%)",
            "0.2",
            "0.25  +0.05 (+25.0%)",
        ]
        assert str(metrics.ordered_columns[4].label) == "◆ adam-s1"
        metrics.cursor_coordinate = Coordinate(0, 0)  # no run highlighted: b takes the next
        await pilot.press("b")
        assert screen.baseline == 3

        # `d` cycles the better direction of the row's metric: lower, higher, none, guessed.
        metrics.cursor_coordinate = Coordinate(1, 0)
        assert metrics.text_at(1, 0) == "train/loss ↓"
        await pilot.press("d")
        assert metrics.text_at(1, 0) == "train/loss ↓*"
        await pilot.press("d")
        assert metrics.text_at(1, 0) == "train/loss ↑*"
        assert ui.metric_row(screen, "train/loss", "last")[5] == "★ 0.25"
        await pilot.press("d")
        assert ui.metric_row(screen, "train/loss", "last")[2] == "0.1  -0.15 (-60.0%)"
        await pilot.press("d")
        assert (metrics.text_at(1, 0), screen.overrides) == ("train/loss ↓", {})

        # Env/code/data: the other data is impossible to miss.
        assert "⚠ different data" in ui.head(screen)
        await pilot.press("5")
        banner = ui.text(screen, "#env-banner")
        assert banner == " ⚠ TRAINED ON DIFFERENT DATA   datasets that differ: train"
        env = ui.table(screen, "env")
        assert env.column_texts(0) == [
            "── data",
            "train.dataset.version",  # the registered versions differ too
            "train.fingerprint",
            "── code",
            "git.commit",
            "git.dirty",
            "── python",
            "python.version",
            "── packages",
            "packages.numpy",
        ]
        assert [env.text_at(7, c) for c in range(1, 5)] == ["3.11.7", "3.11.7", "3.11.7", "3.12.1"]
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, CompareScreen)


async def test_tabs_and_filters(
    sample: Any, compare_app: Any, until_loaded: Loaded, ui: Any
) -> None:
    async with compare_app(sample.root, sample.ids).run_test(size=SIZE) as pilot:
        screen = await until_loaded(pilot)
        tabs = screen.query_one(TabbedContent)
        for key, tab in [("4", "system"), ("5", "env"), ("3", "charts")]:
            await pilot.press(key)
            assert tabs.active == tab

        grid = screen.query_one("#metric-charts", ChartsGrid)
        assert grid.shown_keys == ["train/loss", "val/acc"]
        assert grid.charts[0].has_focus
        names = [s.name for s in grid.charts[0].state.series]
        assert names == ["sgd-s1", "sgd-s2", "adam-s1", "adam-s2"]
        system = screen.query_one("#system-charts", ChartsGrid)
        assert system.keys == ["sys/cpu_pct", "sys/rss_mb"]
        assert system.series["sys/rss_mb"][3].values.tolist() == [103.0] * 5

        await pilot.press("slash", *"LO")
        box = screen.query_one("#compare-filter", Input)
        assert box.has_focus
        assert grid.shown_keys == ["train/loss"]
        await pilot.press("b")  # typed into the filter: no baseline change
        assert screen.baseline == 0
        assert grid.shown_keys == []
        assert ui.text(grid, ".charts-status") == "no key matches /LOb/"
        await pilot.press("backspace", "left_parenthesis")
        assert box.border_subtitle is not None
        assert box.border_subtitle.startswith("✗")  # a bad regex keeps the last good one
        assert grid.pattern is not None and grid.pattern.pattern == "LO"
        await pilot.press("escape")
        assert not box.display
        assert isinstance(pilot.app.screen, CompareScreen)  # escape closed only the filter

        # Each tab has its own filter, over its own keys.
        await pilot.press("1", "slash", *"^m", "enter")
        assert ui.table(screen, "params").column_texts(0) == ["model.depth", "model.kind"]
        await pilot.press("2", "slash", *"c$", "enter")
        assert ui.table(screen, "metrics").column_texts(0) == ["test/acc ↑"] + ["val/acc ↑"] * 3
        assert grid.shown_keys == ["train/loss"]


async def test_G_groups_runs_and_draws_mean_and_std(
    sample: Any, compare_app: Any, until_loaded: Loaded, wait_for: Any, ui: Any
) -> None:
    async with compare_app(sample.root, sample.ids).run_test(size=SIZE) as pilot:
        screen = await until_loaded(pilot)
        await pilot.press("3", "G")
        picker = pilot.app.screen
        assert isinstance(picker, GroupPicker)
        # no grouping, all but seeds, then the params that differ: lr, model.*, seed
        assert picker.query_one(OptionList).option_count == 6
        await pilot.press("down", "enter")
        assert pilot.app.screen is screen
        assert screen.grouping == ALL_BUT_SEEDS
        assert [g.members for g in screen.groups] == [(0, 1), (2, 3)]
        assert "2 groups by all but seeds" in ui.head(screen)

        grid = screen.query_one("#metric-charts", ChartsGrid)
        await wait_for(
            pilot,
            lambda: bool(grid.charts[0].state.series) and grid.charts[0].state.series[0].band,
            what="group curves",
        )
        loss = grid.charts[0].state.series
        assert [s.name for s in loss] == [g.label for g in screen.groups]
        # steps 0 and 1 of sgd-s1 and sgd-s2: 2.0 / 2.05 and 1.0 / 1.05
        assert loss[0].values[:2].tolist() == pytest.approx([2.025, 1.025])
        assert loss[0].band is not None
        assert loss[0].band[1][0] - loss[0].values[0] == pytest.approx(0.05 / 2**0.5)

        await pilot.press("2")
        assert ui.metric_row(screen, "train/loss", "last")[2:] == [
            "★ 0.125±0.035 n=2",
            "0.225±0.035 n=2  +0.1 (+80.0%)",
        ]
        await pilot.press("3", "b")  # no highlighted column: the next group is the baseline
        assert screen.baseline == 2
        assert "baseline ◆ lr=0.01 depth=3 kind=adam" in ui.head(screen)
        await pilot.press("G", "up", "enter")  # back to one line per run
        assert screen.groups == []
        assert len(grid.charts[0].state.series) == 4
        assert len(ui.table(screen, "metrics").columns) == 6


async def test_focus_bar_j_k_and_letters_in_the_filter(
    sample: Any, compare_app: Any, until_loaded: Any
) -> None:
    async with compare_app(sample.root, sample.ids).run_test(size=SIZE) as pilot:
        screen = await until_loaded(pilot)
        seen = set()
        for key in "12345":
            await pilot.press(key)
            await pilot.pause()
            pane = screen.query_one(TabbedContent).active_pane
            chain = [w for w in screen.focus_chain if pane in w.ancestors]
            for widget in chain:
                widget.focus()
                await pilot.pause()
                assert widget.styles.border_left[0] == "thick", widget
                assert all(w.styles.border_left[0] == "blank" for w in chain if w is not widget)
                seen.add(type(widget).__name__)
        assert {"CompareTable", "MetricChart", "ChartLegend"} <= seen
        await pilot.press("1")
        table = screen.query_one("#params-pane CompareTable")
        table.focus()
        row = table.cursor_coordinate.row
        await pilot.press("j")
        assert table.cursor_coordinate.row == row + 1
        await pilot.press("slash", *"bad G")  # b, a, d and G are screen keys elsewhere
        assert screen.query_one("#compare-filter", Input).value == "bad G"
        assert (screen.baseline, screen.show_all) == (0, False)


async def test_footer_keeps_help_at_80_columns(
    sample: Any, compare_app: Any, until_loaded: Loaded
) -> None:
    async with compare_app(sample.root, sample.ids).run_test(size=(80, 24)) as pilot:
        screen = await until_loaded(pilot)
        await pilot.pause()
        footer = screen.query_one(Footer)
        # Compact, without the palette hint, as on every other screen: no key is cut (at
        # 80 columns the app's `q Quit` was cut and `? Help` left out).
        assert footer.compact and not footer.show_command_palette
        keys = list(footer.query(FooterKey))
        assert [k.key_display for k in keys] == ["esc", "b", "a", "G", "/"]
        assert keys[-1].region.right < 60
