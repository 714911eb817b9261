"""The runs screen: sorting, marks, movement, columns, sidebar, skipped files, help,
palette and quit. Driven by keys through Pilot on a store written in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.app import App
from textual.command import CommandInput, CommandList
from textual.widget import Widget
from textual.widgets import Input

from mmtop.tui.screens.columns import ColumnPicker
from mmtop.tui.screens.help import HelpScreen
from mmtop.tui.screens.problems import ProblemsScreen
from mmtop.tui.widgets.filter_bar import FilterBar, FilterInput
from mmtop.tui.widgets.runs_table import RunsTable
from mmtop.tui.widgets.sidebar import ExperimentsSidebar
from mmtop.tui.widgets.status_bar import StatusBar

NEWEST_FIRST = ["resnet-b", "resnet-a", "mlp-lr0.001", "mlp-lr0.01", "sgd-lr0.01", "sgd-lr0.1"]


def table(app: App[Any]) -> RunsTable:
    return app.screen.query_one(RunsTable)


async def test_sort_by_focused_column_reverse_and_header_click(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        t = table(app)
        assert t.current_column is not None
        assert t.current_column.key == "name"
        await pilot.press("s")
        assert h.names(app) == sorted(NEWEST_FIRST)
        await pilot.press("r")
        assert h.names(app) == sorted(NEWEST_FIRST, reverse=True)
        await pilot.press("l", "l", "l")
        assert t.current_column is not None
        assert t.current_column.key == "params.lr"
        await pilot.press("s")  # numbers sort high to low first
        assert h.names(app)[:2] == ["sgd-lr0.1", "resnet-b"]
        assert h.names(app)[-1] == "mlp-lr0.001"
        # Clicking a header sorts by it too.
        header = h.screen_text(app).splitlines()[1]
        await pilot.click(RunsTable, offset=(header.index("experiment") + 1, 0))
        assert app.screen.state.sort_key == "experiment"
        assert h.names(app)[:2] == ["resnet-b", "resnet-a"]


async def test_metric_sort_uses_last_then_min_then_max(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    specs = [
        h.Spec("a", params={"lr": 1.0}, steps=3, scale=1.0),
        h.Spec("b", params={"lr": 2.0}, steps=3, scale=0.5),
    ]
    h.build_store(root, specs)
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        app.screen.sort_by("metrics.train/loss", descending=True)
        assert app.screen.state.metric_agg == "last"
        assert h.names(app) == ["a", "b"]
        await pilot.press("m")
        assert app.screen.table.view.sort_column == "metrics_min.train/loss"
        await pilot.press("m")
        assert app.screen.table.view.sort_column == "metrics_max.train/loss"
        await pilot.press("m")
        assert app.screen.table.view.sort_column == "metrics.train/loss"


async def test_marks_survive_sort_filter_and_reload(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("space", "space")
        assert app.screen.marks == {h.run_id(5), h.run_id(4)}
        assert table(app).cursor_row == 2
        await pilot.press("s")  # sort by name
        await pilot.press("slash", *"resnet", "enter")
        assert h.names(app) == ["resnet-a", "resnet-b"]
        await pilot.press("ctrl+r")
        await h.wait_for(pilot, lambda: app.screen.loads >= 2)
        assert app.screen.marks == {h.run_id(5), h.run_id(4)}
        assert app.screen.query_one(StatusBar).status.marked == 2
        assert "● " in h.screen_text(app)
        await pilot.press("space")  # unmark the first shown row (resnet-a)
        assert app.screen.marks == {h.run_id(5)}
        await pilot.press("u")
        assert app.screen.marks == set()


async def test_vim_keys_move_the_cursor(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        t = table(app)
        await pilot.press("j", "j")
        assert t.cursor_row == 2
        await pilot.press("k")
        assert t.cursor_row == 1
        await pilot.press("G")
        assert t.cursor_row == 5
        assert t.current_run_id == h.run_id(0)
        await pilot.press("g")
        assert t.cursor_row == 0


async def test_column_picker_keeps_or_drops_by_regex(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("C")
        assert isinstance(app.screen, ColumnPicker)
        app.screen.query_one(Input).value = "val/|^params\\.lr"
        await pilot.press("enter")
        keys = [c.key for c in app.screen.query_one(RunsTable).columns]
        assert keys == ["status", "name", "metrics.val/acc", "params.lr"]
        await pilot.press("C")
        app.screen.query_one(Input).value = "params|tags"
        await pilot.press("ctrl+d")
        keys = [c.key for c in app.screen.query_one(RunsTable).columns]
        assert keys == [
            "status", "name", "metrics.train/loss", "metrics.val/acc",
            "created", "duration_s", "last_step", "experiment",
        ]  # fmt: skip
        await pilot.press("C", "ctrl+r")
        assert len(app.screen.query_one(RunsTable).columns) == 11
        await pilot.press("C", "ctrl+a", "ctrl+k", "left_parenthesis", "enter")
        assert isinstance(app.screen, ColumnPicker)  # a bad regex keeps the picker open
        await pilot.press("escape")
        assert len(app.screen.query_one(RunsTable).columns) == 11


async def test_sidebar_narrows_to_one_experiment(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("left_square_bracket")
        text = h.screen_text(app)
        assert "All (6)" in text and "cifar (2)" in text and "digits (4)" in text
        await pilot.press("j", "enter")
        assert h.names(app) == ["resnet-b", "resnet-a"]
        assert isinstance(app.focused, RunsTable)
        await pilot.press("left_square_bracket")  # hides it; the narrowing stays
        assert h.names(app) == ["resnet-b", "resnet-a"]
        assert "experiment: cifar" in h.screen_text(app)
        await pilot.press("left_square_bracket", "k", "enter")
        assert h.names(app) == NEWEST_FIRST


async def test_skipped_files_are_counted_and_listed(store_root: Path, h: Any) -> None:
    broken = store_root / "digits" / "20260105T100000Z-bad000"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        assert app.screen.query_one(StatusBar).status.skipped == 1
        assert "1 skipped" in h.screen_text(app)
        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, ProblemsScreen)
        await pilot.pause()
        assert "20260105T100000Z-bad000" in h.screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, ProblemsScreen)


def _highlighted(commands: CommandList) -> str | None:
    """The palette's highlighted command, once its search has filled the list."""
    if commands.highlighted is None:
        return None
    return str(commands.get_option_at_index(commands.highlighted).prompt).splitlines()[0]


async def test_help_and_palette_and_quit(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("question_mark")
        help_screen: object = app.screen
        assert isinstance(help_screen, HelpScreen)
        await pilot.pause()
        text = h.screen_text(app)
        for words in ("Filter", "Mark", "Reverse", "Columns", "Sidebar", "Export"):
            assert words in text
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        palette = app.screen.query_one(CommandInput)
        palette.value = "runs: sort by nam"
        await pilot.press("e")
        commands = app.screen.query_one(CommandList)
        await h.wait_for(pilot, lambda: _highlighted(commands) == "runs: sort by name")
        await pilot.press("enter")
        await h.wait_for(pilot, lambda: app.screen.state.sort_key == "name")
        assert h.names(app) == sorted(NEWEST_FIRST)
        await pilot.press("q")
    assert app.return_code == 0


async def test_c_compares_marked_runs_else_every_shown_run(store_root: Path, h: Any) -> None:
    from mmtop.tui.screens.compare import CompareScreen

    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        shown = table(app).visible_ids()
        await pilot.press("space", "j", "space")  # space marks and moves down, as in htop
        marked = [run_id for run_id in shown if run_id in app.screen.marks]
        assert len(marked) == 2
        await pilot.press("c")
        await h.wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert app.screen.data.run_ids == marked
        await pilot.press("escape")
        await h.wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen))
        await pilot.press("u", "c")  # no marks: every run the filter shows
        await h.wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        await h.wait_for(pilot, lambda: app.screen.data.run_ids == shown)


async def test_palette_lists_hostile_metric_keys_literally(tmp_path: Path, h: Any) -> None:
    from textual.command import CommandPalette

    from mmtop import store

    root = tmp_path / "hostile"
    with store.Run(root=root, name="h", capture_system=False, capture_env=False) as run:
        run.log({"[red]m[/red]": 1.0, "acc[/]": 0.5})
        run.summary["sum[/]"] = 2.0
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("ctrl+p")
        await h.wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"sort by")
        await h.wait_for(pilot, lambda: "acc[/]" in h.screen_text(app))
        text = h.screen_text(app)
        assert "sort by [red]m[/red]" in text
        assert "sum[/]" in text
        assert app.is_running


async def test_an_experiment_whose_runs_the_filter_hides_says_so(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await h.loaded(pilot)
        await pilot.press("slash", *"sgd", "enter", "left_square_bracket", "j", "enter")
        assert app.screen.state.experiment == "cifar"
        assert h.names(app) == []
        assert "filter hides all 2 cifar runs: ctrl+f clears it" in h.screen_text(app)
        await pilot.press("ctrl+f")
        assert h.names(app) == ["resnet-b", "resnet-a"]
        assert "hides" not in h.screen_text(app)


async def test_hint_lines_wrap_at_80_columns(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await h.loaded(pilot)
        await pilot.press("C")
        assert isinstance(app.screen, ColumnPicker)
        assert "list, space ticks, ctrl+s shows ticked · esc cancels" in h.screen_text(app)


async def test_the_footer_keeps_help_in_view_at_80_columns(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await h.loaded(pilot)
        assert h.screen_text(app).splitlines()[-1].rstrip().endswith("? Help")


async def test_every_focusable_widget_of_the_runs_screen_shows_a_focus_bar(
    store_root: Path, h: Any
) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("left_square_bracket")  # the sidebar, focused
        await h.wait_for(pilot, lambda: isinstance(app.focused, ExperimentsSidebar))
        screen = app.screen
        holders: dict[type, Widget] = {
            ExperimentsSidebar: screen.query_one(ExperimentsSidebar),
            RunsTable: screen.query_one(RunsTable),
            FilterInput: screen.query_one(FilterBar),  # the bar runs down the whole filter bar
        }
        assert [type(w) for w in screen.focus_chain] == list(holders)
        seen = []
        for _ in holders:
            focused = app.focused
            assert focused is not None
            seen.append(type(focused))
            holder = holders[type(focused)]
            lines = h.screen_text(app).splitlines()
            for other in holders.values():
                bar = other.styles.border_left
                glyphs = {
                    lines[y][other.region.x] for y in range(other.region.y, other.region.bottom)
                }
                if other is holder:
                    assert bar[0] == "thick", other
                    assert glyphs == {"█"}, other
                else:
                    assert bar[0] == "blank" and glyphs == {" "}, other
            await pilot.press("tab")
        assert seen == list(holders)
        assert isinstance(app.focused, ExperimentsSidebar)  # an empty filter: tab goes round


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_every_table_line_writes_every_cell_of_its_width(
    store_root: Path, h: Any, size: tuple[int, int]
) -> None:
    """A Strip that says it is wider than its text leaves the last cells unwritten on a
    real terminal: after enter/esc a `━` of the detail screen's tab bar stayed at the end
    of row 1, and after the column picker with a filter a stray digit on every row (an SVG
    snapshot pads the line, so it cannot show this)."""
    app = h.make_app(store_root)
    async with app.run_test(size=size) as pilot:
        await h.loaded(pilot)
        t = table(app)

        def check(when: str) -> None:
            region = t.scrollable_content_region
            for y in range(region.height):
                strip = t.render_line(y)
                written = sum(cell_len(segment.text) for segment in strip)
                assert (strip.cell_length, written) == (region.width, region.width), (when, y)

        check("first screen")
        await pilot.press("enter")
        detail = app.screen
        await h.wait_for(pilot, lambda: getattr(detail, "loads", 0) >= 1)
        await pilot.press("escape")
        await pilot.pause()
        check("after enter, esc")
        await pilot.press("slash", *"sgd", "enter", "C")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        check("after the column picker with a filter")
        await pilot.press("ctrl+f", *"llllll")
        await pilot.pause()
        check("scrolled sideways")


async def test_the_status_line_cuts_a_long_experiment_name_with_an_ellipsis_at_80_columns(
    tmp_path: Path, h: Any
) -> None:
    root = tmp_path / "store"
    name = "imagenet-finetune-ablation"
    h.build_store(root, [h.Spec(name="a", experiment=name)])
    app = h.make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await h.loaded(pilot)
        await pilot.press("left_square_bracket", "j", "enter")
        assert app.screen.state.experiment == name
        bar = app.screen.query_one(StatusBar)
        line = h.screen_text(app).splitlines()[bar.region.y]
        assert line == (
            " 1/1 shown  ▶ 0 running  ● 0 marked  watch: off  sort: age ▼  experiment: imag… "
        )
