"""The run detail screen: tabs, params search, charts, tables, tags and comments; and a
keyboard that never surprises: a visible focus bar on every focusable widget, `/` and
`1`-`9` from anywhere, `j`/`k` in every list, table and text, letters typed into inputs stay
text, help shows keys as people write them."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import polars as pl
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, TabbedContent, Tree
from textual.widgets.tree import TreeNode

from mmtop import store
from mmtop.store import RunInfo
from mmtop.tui.app import MmtopApp
from mmtop.tui.launch import Launch, sample_root
from mmtop.tui.screens.detail import RunDetailScreen, split_tags
from mmtop.tui.screens.help import HelpScreen
from mmtop.tui.screens.prompt import PromptScreen
from mmtop.tui.screens.runs import RunsScreen
from mmtop.tui.widgets.confusion_heatmap import ConfusionHeatmap
from mmtop.tui.widgets.console_view import ConsoleView
from mmtop.tui.widgets.frame_table import FrameTable
from mmtop.tui.widgets.metric_grid import MetricGrid
from mmtop.tui.widgets.tables_view import TablesView


def rich_run(root: Path, h: Any) -> str:
    """A run with nested params, curves, a confusion matrix, predictions and a console."""
    spec = h.Spec(
        "cnn",
        params={"lr": 0.01, "optim": {"name": "adam", "betas": [0.9, 0.99]}, "batch": 64},
        tags=["baseline"],
    )
    run = store.Run(
        experiment=spec.experiment,
        name=spec.name,
        params=spec.params,
        tags=spec.tags,
        root=root,
        run_id=h.run_id(0),
        capture_env=False,
        capture_code=False,
        capture_system=False,
    )
    for step in range(10):
        run.log({"train/loss": 1 / (step + 1), "val/acc": step / 10}, step=step)
    run.log_confusion_matrix(
        ["cat", "cat", "dog", "dog", "dog"], ["cat", "dog", "dog", "dog", "cat"]
    )
    run.log_predictions(
        [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.95, 0.05]],
        y_true=[0, 0, 1, 1],
        ids=["a", "b", "c", "d"],
        class_names=["cat", "dog"],
    )
    run.finish()
    (run.path / "console.log").write_text("epoch 1 [red]x[/red]\nepoch 2 \x1b[2Jdone\n")
    h.fix_meta(root, 0, spec.experiment)
    return run.run_id


async def open_detail(pilot: Pilot[Any], h: Any) -> RunDetailScreen:
    await h.loaded(pilot)
    await pilot.press("enter")
    screen = pilot.app.screen
    assert isinstance(screen, RunDetailScreen)
    await h.wait_for(pilot, lambda: screen.loads >= 1 and screen.history_loads >= 1)
    await pilot.pause()
    return screen


async def test_overview_and_number_keys_switch_tabs(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    rich_run(root, h)
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, h)
        text = h.screen_text(app)
        assert "✓ finished  cnn" in text
        assert "gpu-box  user alice  pid 4242" in text
        assert "train.py --epochs 20" in text
        tabs = screen.query_one(TabbedContent)
        for key, tab in zip(
            "123456789",
            [
                "overview",
                "params",
                "metrics",
                "system",
                "tables",
                "artifacts",
                "env",
                "code",
                "console",
            ],
            strict=True,
        ):
            await pilot.press(key)
            assert tabs.active == tab
        await pilot.pause()
        # Console lines are shown literally: markup as typed, the escape sequence removed.
        console = screen.query_one(ConsoleView)
        assert console.shown == ["epoch 1 [red]x[/red]", "epoch 2 done"]
        assert "epoch 1 [red]x[/red]" in h.screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_params_tree_search_keeps_matching_paths(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    rich_run(root, h)
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, h)
        await pilot.press("2")
        tree = screen.query_one("#params-tree", Tree)

        def labels() -> list[str]:
            out: list[str] = []

            def walk(node: TreeNode[Any]) -> None:
                for child in node.children:
                    out.append(str(child.label))
                    walk(child)

            walk(tree.root)
            return out

        assert labels() == ["lr = 0.01", "optim", "name = adam", "betas = [0.9, 0.99]",
                            "batch = 64"]  # fmt: skip
        screen.query_one("#params-search", Input).focus()
        await pilot.press(*"adam")
        assert labels() == ["optim", "name = adam"]
        await pilot.press("ctrl+a", "ctrl+k", *"optim")
        assert labels() == ["optim", "name = adam", "betas = [0.9, 0.99]"]


async def test_metric_charts_one_per_key_with_regex_filter(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    rich_run(root, h)
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, h)
        await pilot.press("3")
        grid = screen.query_one("#metrics-pane", MetricGrid)
        assert grid.keys == ["train/loss", "val/acc"]
        assert grid.shown_keys == ["train/loss", "val/acc"]
        grid.query_one(Input).focus()
        await pilot.press(*"^val")
        assert grid.shown_keys == ["val/acc"]
        await pilot.press("left_square_bracket")
        assert "✗" in str(grid.query_one(".charts-error").render())
        assert grid.shown_keys == ["val/acc"]  # a bad regex keeps the previous filter
        system = screen.query_one("#system-pane", MetricGrid)
        assert system.keys == []
        await pilot.press("escape")


async def test_tables_tab_heatmap_and_predictions_wrong_first(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    rich_run(root, h)
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, h)
        await pilot.press("5")
        view = screen.query_one(TablesView)
        assert [(r.name, r.kind) for r in view.refs] == [
            ("confusion.val", "confusion"),
            ("predictions.val", "predictions"),
        ]
        heat = screen.query_one(ConfusionHeatmap)
        await h.wait_for(pilot, lambda: heat.display)
        await pilot.pause()
        text = h.screen_text(app)
        assert "precision" in text and "recall" in text
        assert "accuracy 60.0% of 5" in text
        # cat: 1 of 2 predicted cats right (50%), recall 1/2; dog: precision 2/3, recall 2/3.
        assert "50.0%" in text and "66.7%" in text
        screen.query_one("#tables-list").focus()
        await pilot.press("down", "enter")
        table = screen.query_one("#frame-table", FrameTable)
        await h.wait_for(pilot, lambda: table.display and table.row_count == 4)
        # Mistakes first, most confident first: d (cat 0.95, truly dog), then b (0.8).
        assert table.shown_first_column == ["d", "b", "a", "c"]
        table.focus()
        await pilot.press("s")  # sort by the cursor's column: id
        assert table.shown_first_column == ["a", "b", "c", "d"]
        await pilot.press("r")
        assert table.shown_first_column == ["d", "c", "b", "a"]


async def test_tags_and_comment_are_written_through_the_store(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    run_id = rich_run(root, h)
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, h)
        await pilot.press("t")
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one(Input).value == "baseline"
        await pilot.press("ctrl+a", "ctrl+k", *"best, v2")
        await pilot.press("enter")
        await h.wait_for(pilot, lambda: cast(RunInfo, screen.info).tags == ["best", "v2"])
        assert store.open(root).run(run_id).tags == ["best", "v2"]
        await pilot.press("n")
        app.screen.query_one(Input).value = "looks [bold]good[/bold]"
        await pilot.press("enter")
        await h.wait_for(pilot, lambda: len(screen.extras.comments) == 1)
        await pilot.pause()
        assert screen.extras.comments[0]["text"] == "looks [bold]good[/bold]"
        assert "looks [bold]good[/bold]" in h.screen_text(app)
    lines = (root / "digits" / run_id / "comments.jsonl").read_text().splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["looks [bold]good[/bold]"]


async def test_read_only_store_refuses_edits_with_a_reason(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    run_id = rich_run(root, h)
    before = (root / "digits" / run_id / "run.json").read_text()
    app = h.make_app(root, launch=Launch(root, "sample", read_only=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_detail(pilot, h)
        await pilot.press("t")
        assert isinstance(app.screen, RunDetailScreen)  # no prompt: it cannot be saved
        await pilot.press("n")
        assert isinstance(app.screen, RunDetailScreen)
        messages = [n.message for n in app._notifications]
        assert messages == [
            "cannot edit tags: the bundled sample runs are read-only; log your own runs to "
            "edit them",
            "cannot add a comment: the bundled sample runs are read-only; log your own runs "
            "to edit them",
        ]
    assert (root / "digits" / run_id / "run.json").read_text() == before
    assert not (root / "digits" / run_id / "comments.jsonl").exists()


def test_split_tags() -> None:
    assert split_tags("a, b c,,a ") == ["a", "b", "c"]
    assert split_tags("") == []


def test_predictions_frame_columns_are_what_wrong_first_expects(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    run_id = rich_run(root, h)
    frame = store.open(root).run(run_id).predictions("val")
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns[:5] == ["id", "y_true", "pred", "confidence", "correct"]


async def test_metrics_tab_pages_a_grid_changing_keys_first(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    spec = h.Spec("sweep")
    with store.Run(
        experiment=spec.experiment,
        name=spec.name,
        root=root,
        run_id=h.run_id(0),
        capture_env=False,
        capture_code=False,
        capture_system=False,
    ) as run:
        for step in range(10):
            run.log(
                {"a/lr": 0.1, "b/epoch_s": 3.0, "train/loss": 1 / (step + 1), "val/acc": step / 10},
                step=step,
            )
    h.fix_meta(root, 0, spec.experiment)
    app = h.make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, h)
        await pilot.press("3")
        pane = screen.query_one("#metrics-pane", MetricGrid)
        assert pane.keys == ["train/loss", "val/acc", "a/lr", "b/epoch_s"]
        grid = pane.grid
        assert (grid.shape, grid.shown_keys) == ((1, 1), ["train/loss"])
        grid.charts[0].focus()
        await pilot.press("right_square_bracket")
        assert grid.shown_keys == ["val/acc"]
        assert grid.charts[0].title == "val/acc"
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert (grid.shape, grid.shown_keys) == ((2, 2), pane.keys)


async def test_every_focusable_widget_shows_a_focus_bar(tmp_path: Path, h: Any) -> None:
    rich_run(tmp_path / "store", h)
    app = h.make_app(tmp_path / "store")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, h)
        seen = set()
        for tab in ("overview", "params", "metrics", "system", "tables", "artifacts", "env",
                    "code", "console"):  # fmt: skip
            screen.action_tab(tab)
            await pilot.pause()
            pane = screen.query_one(TabbedContent).active_pane
            assert pane is not None
            chain = [w for w in screen.focus_chain if pane in w.ancestors]
            for widget in chain:
                widget.focus()
                await pilot.pause()
                assert widget.styles.border_left[0] == "thick", widget
                others = [w for w in chain if w is not widget]
                assert all(w.styles.border_left[0] == "blank" for w in others), widget
                seen.add(type(widget).__name__)
        assert {"Input", "Tree", "MetricChart", "OptionList", "ConsoleView"} <= seen


async def test_slash_and_digits_work_wherever_focus_is(tmp_path: Path, h: Any) -> None:
    rich_run(tmp_path / "store", h)
    app = h.make_app(tmp_path / "store")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, h)
        tabs = screen.query_one(TabbedContent)
        assert tabs.active == "overview"
        await pilot.press("slash")  # from the overview: the Metrics filter
        metrics_filter = screen.query_one("#metrics-pane Input", Input)
        assert (tabs.active, metrics_filter.has_focus) == ("metrics", True)
        await pilot.press(*"train/loss", "1", "2")  # letters and digits are text here
        assert metrics_filter.value == "train/loss12"
        assert not isinstance(app.screen, PromptScreen)  # `t` did not open the tag editor
        assert tabs.active == "metrics"
        await pilot.press("ctrl+a", "ctrl+k", "tab")  # on to a chart
        assert app.focused is not None and app.focused is not metrics_filter
        await pilot.press("2")
        assert tabs.active == "params"
        await pilot.press("slash")
        params_search = screen.query_one("#params-search", Input)
        assert params_search.has_focus
        await pilot.press(*"nt")
        assert params_search.value == "nt"
        assert not isinstance(app.screen, PromptScreen)
        await pilot.press("tab", "7", "slash")  # from the tree, to the packages search
        assert tabs.active == "env"
        assert screen.query_one("#env-pane Input", Input).has_focus


async def test_j_and_k_move_in_lists_trees_and_text(tmp_path: Path, h: Any) -> None:
    rich_run(tmp_path / "store", h)
    app = h.make_app(tmp_path / "store")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, h)
        await pilot.press("2")
        tree = screen.query_one("#params-tree", Tree)
        tree.focus()
        start = tree.cursor_line
        await pilot.press("j", "j")
        assert tree.cursor_line == start + 2
        await pilot.press("k")
        assert tree.cursor_line == start + 1
        await pilot.press("5")
        options = screen.query_one("#tables-list", OptionList)
        options.focus()
        options.highlighted = 0
        await pilot.press("j")
        assert options.highlighted == 1
        await pilot.press("9")
        console = screen.query_one(ConsoleView)
        console.write_lines([f"line {i}" for i in range(200)])
        console.focus()
        await pilot.pause()
        console.scroll_home(animate=False)
        await pilot.press("j", "j", "j")
        assert console.scroll_y == 3


async def test_help_names_keys_as_people_write_them(tmp_path: Path, h: Any) -> None:
    rich_run(tmp_path / "store", h)
    app = h.make_app(tmp_path / "store")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, h)
        screen.action_show_help()
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = h.screen_text(app)
        assert "+ =" in text and "Zoom in" in text
        assert "< shift+←" in text
        moves = dict(app.screen.sections)["move"]
        assert [keys for keys, _ in moves] == ["j k"]
        for raw in ("plus", "equals_sign", "less_than_sign", "shift+left"):
            assert raw not in text


async def test_tab_bar_keeps_console_at_80_columns(tmp_path: Path, h: Any) -> None:
    rich_run(tmp_path / "store", h)
    app = h.make_app(tmp_path / "store")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot, h)
        tabs = screen.query_one(TabbedContent)
        console = tabs.get_tab("console")
        assert console.region.right <= 80 and str(console.label) == "9 Console"
        assert "9 Console" in h.screen_text(app).splitlines()[1]
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert str(tabs.get_tab("artifacts").label) == "6 Artifacts"


async def test_notes_render_as_markdown_and_stay_inert(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    run_id = rich_run(root, h)
    folder = store.open(root).run(run_id).path
    (folder / "notes.md").write_text(
        "# Second try\n\n- lr **0.1** [red]boom[/red]\n- see [docs](https://evil.example/x)\n"
        "\n<script>alert(1)</script>\n\nend \x1b]8;;http://evil\x07here\x1b]8;;\x07 \x1b[2Jok\n",
        encoding="utf-8",
    )
    app = h.make_app(root)
    async with app.run_test(size=(120, 60)) as pilot:
        await open_detail(pilot, h)
        text = h.screen_text(app)
        assert "Second try" in text and "# Second try" not in text  # a heading, not a hash
        assert "• lr 0.1 [red]boom[/red]" in text  # a list; markup shown as typed
        assert "• see docs (https://evil.example/x)" in text  # the link spelled out
        assert "script" not in text and "alert" not in text
        assert "end here ok" in text
        strips = [
            strip
            for widget in app.screen.walk_children(with_self=True)
            if widget.display and widget.size.area
            for strip in widget.render_lines(Region(0, 0, *widget.size))
        ]
        assert any("Second try" in strip.text for strip in strips)  # the notes were looked at
        assert not any(seg.style and seg.style.link for strip in strips for seg in strip)


async def test_a_crashed_run_says_when_it_was_last_seen_alive(store_root: Path, h: Any) -> None:
    # resnet-b (run 5) says running in run.json, and its writer last beat at 10:00.
    beat = store_root / "cifar" / h.run_id(5) / "heartbeat"
    beat.touch()
    seen = (h.NOW - timedelta(hours=23)).timestamp()
    os.utime(beat, (seen, seen))
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_detail(pilot, h)  # the newest run, resnet-b, is first
        text = h.screen_text(app)
        assert screen.info is not None and screen.info.status == "crashed"
        assert "never recorded (crashed)" in text, text
        assert "last seen alive  2026-01-05 10:00:00 UTC  (23h ago)" in text
        assert "still running" not in text


async def test_a_crashed_sample_run_without_a_heartbeat_is_seen_alive_by_its_last_point(
    h: Any,
) -> None:
    # The bundled sgd-preempted run says running in run.json and ships no heartbeat: its last
    # logged point (03:05:50.73, 0.08 s after it was created) is the newest sign of life.
    root = sample_root()
    assert root is not None
    later = datetime(2026, 11, 27, 5, 5, 50, tzinfo=UTC)
    app = MmtopApp(Launch(root, "sample", read_only=True), now=lambda: later, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        run_id = "20261127T030550Z-7a71d6"
        assert not (root / "digits" / run_id / "heartbeat").exists()
        app.push_screen(RunDetailScreen(run_id))
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        await h.wait_for(pilot, lambda: screen.loads >= 1)
        await pilot.pause()
        text = h.screen_text(app)
        assert screen.info is not None and screen.info.status == "crashed"
        assert "never recorded (crashed)" in text, text
        assert (
            "last seen alive  2026-11-27 03:05:50 UTC  (1h ago)  its last logged point, "
            "no heartbeat" in text
        ), text
        assert "duration         0.079s" in text, text
