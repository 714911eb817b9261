"""The runs screen: first load, the filter bar (SQL, words, errors, history, completion),
export. Driven by keys through Pilot on a store written in tmp_path."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Input

from mmtop.tui.filtering import History
from mmtop.tui.screens.prompt import PromptScreen
from mmtop.tui.widgets.filter_bar import CompletionList, FilterBar, FilterInput
from mmtop.tui.widgets.runs_table import RunsTable
from mmtop.tui.widgets.status_bar import StatusBar

NEWEST_FIRST = ["resnet-b", "resnet-a", "mlp-lr0.001", "mlp-lr0.01", "sgd-lr0.01", "sgd-lr0.1"]


def table(app: App[Any]) -> RunsTable:
    return app.screen.query_one(RunsTable)


async def test_first_load_lists_runs_newest_first_with_statuses(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        assert h.names(app) == NEWEST_FIRST
        status = app.screen.query_one(StatusBar).status
        assert (status.total, status.shown, status.running, status.marked) == (6, 6, 0, 0)
        text = h.screen_text(app)
        # Distinct glyphs per status: finished, failed, killed, crashed.
        assert "✓ sgd-lr0.1" in text
        assert "✗ mlp-lr0.01" in text
        assert "■ mlp-lr0.001" in text
        assert "☠ resnet-b" in text
        keys = [c.key for c in table(app).columns]
        # Metrics first, then lr and model.kind, which differ between runs (epochs is 20
        # everywhere, so it is hidden), then the run's own columns.
        assert keys == [
            "status", "name", "metrics.train/loss", "metrics.val/acc",
            "params.lr", "params.model.kind",
            "created", "duration_s", "last_step", "tags", "experiment",
        ]  # fmt: skip


async def test_sql_filter_narrows_and_enter_keeps_it_in_history(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, FilterInput)
        app.focused.value = "params.lr >= 0.05 and status = "
        await pilot.press(*"'finished'")
        assert h.names(app) == ["resnet-a", "sgd-lr0.1"]
        await pilot.press("enter")
        assert isinstance(app.focused, RunsTable)
        assert app.screen.query_one(FilterBar).history.items == [
            "params.lr >= 0.05 and status = 'finished'"
        ]
        assert app.screen.query_one(StatusBar).status.shown == 2


async def test_bad_filter_shows_error_inline_and_keeps_previous_result(
    store_root: Path, h: Any
) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("slash", *"status = 'failed'")
        assert h.names(app) == ["mlp-lr0.01"]
        await pilot.press(*" and x >")
        bar = app.screen.query_one(FilterBar)
        assert bar.has_class("-error")
        assert "✗" in h.screen_text(app)
        assert h.names(app) == ["mlp-lr0.01"]
        await pilot.press("escape")
        assert not bar.has_class("-error")
        assert h.names(app) == NEWEST_FIRST
        assert isinstance(app.focused, RunsTable)


async def test_plain_words_search_name_tags_and_experiment(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("slash", *"sgd")
        assert h.names(app) == ["sgd-lr0.01", "sgd-lr0.1"]
        await pilot.press("ctrl+a", "ctrl+k", *"cifar")
        assert h.names(app) == ["resnet-b", "resnet-a"]
        await pilot.press("ctrl+a", "ctrl+k", *"SWEEP lr0.01")
        assert h.names(app) == ["mlp-lr0.01", "sgd-lr0.01"]
        await pilot.press("enter", "ctrl+f")
        assert h.names(app) == NEWEST_FIRST
        assert app.screen.query_one(FilterInput).value == ""


async def test_filter_history_and_field_completion(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        bar_input = app.screen.query_one(FilterInput)
        await pilot.press("slash", *"gpu", "enter", "slash", "ctrl+a", "ctrl+k", *"sgd", "enter")
        await pilot.press("slash", "up")
        assert bar_input.value == "sgd"
        await pilot.press("up")
        assert bar_input.value == "gpu"
        await pilot.press("down")
        assert bar_input.value == "sgd"
        await pilot.press("ctrl+a", "ctrl+k", *"params.mo")
        assert completion(app).values == ("params.model.kind",)
        await pilot.press("tab")
        assert bar_input.value == "params.model.kind"
        assert not completion(app).display  # the only candidate: taken, the list closes
        await pilot.press(*" = 'mlp'")
        assert h.names(app) == ["mlp-lr0.001", "mlp-lr0.01"]


def completion(app: App[Any]) -> CompletionList:
    return app.screen.query_one(CompletionList)


async def test_completion_list_pops_up_cycles_and_takes_a_candidate(
    store_root: Path, h: Any
) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        bar_input = app.screen.query_one(FilterInput)
        popup = completion(app)
        await pilot.press("slash")
        # Pasted at once: the list opens and the error line appears in the same step.
        bar_input.value = "metrics.va"
        bar_input.cursor_position = len(bar_input.value)
        await pilot.pause()
        # Metric keys come with the double quotes the filter needs.
        assert popup.display and popup.values == ('metrics."val/acc"',)
        # Just above the bar, which the error line under it has pushed up.
        assert app.screen.query_one(FilterBar).has_class("-error")
        await pilot.pause()
        assert popup.region.bottom == bar_input.region.y
        await pilot.press("tab")
        assert bar_input.value == 'metrics."val/acc"'
        await pilot.press(*" > 0.9 and va")
        assert completion(app).values == (
            'metrics."val/acc"', 'metrics_min."val/acc"', 'metrics_max."val/acc"',
        )  # fmt: skip
        # Drawn just above the bar, starting under the word being completed.
        assert popup.region.bottom == bar_input.region.y
        assert popup.region.x == bar_input.region.x + len('metrics."val/acc" > 0.9 and ')
        lines = h.screen_text(app).splitlines()
        box = popup.region
        assert [line[box.x : box.right].strip() for line in lines[box.y : box.bottom]] == [
            'metrics."val/acc"', 'metrics_min."val/acc"', 'metrics_max."val/acc"',
        ]  # fmt: skip
        head = 'metrics."val/acc" > 0.9 and '
        await pilot.press("tab")  # the highlighted (first) one
        assert bar_input.value == head + 'metrics."val/acc"'
        await pilot.press("tab")  # again: the next one in its place
        assert bar_input.value == head + 'metrics_min."val/acc"'
        await pilot.press("tab", "tab")  # past the last: round to the first
        assert bar_input.value == head + 'metrics."val/acc"'
        await pilot.press("shift+tab")  # back: round to the last
        assert bar_input.value == head + 'metrics_max."val/acc"'
        assert popup.display and popup.highlighted == 2
        await pilot.press("enter")  # takes it and closes the list; the filter stays
        assert not popup.display
        assert isinstance(app.focused, FilterInput)
        assert bar_input.value == head + 'metrics_max."val/acc"'
        assert bar_input.cursor_position == len(bar_input.value)
        # up/down move in an open list (not the history); enter takes the one gone to.
        await pilot.press(*" > 0 and status = ")
        assert completion(app).values == (
            "'running'",
            "'finished'",
            "'failed'",
            "'killed'",
            "'crashed'",
        )
        await pilot.press("down", "down", "up", "down")
        assert bar_input.value.endswith("status = ")  # moving puts nothing in
        await pilot.press("enter")
        assert bar_input.value.endswith("status = 'failed'")
        assert h.names(app) == ["mlp-lr0.01"]
        # esc closes the list; esc again clears the filter.
        await pilot.press(*" and pa")
        assert popup.display
        await pilot.press("escape")
        assert not popup.display and bar_input.value.endswith(" and pa")
        await pilot.press("escape")
        assert bar_input.value == ""
        assert isinstance(app.focused, RunsTable)


async def test_enter_keeps_a_typed_word_when_a_candidate_was_only_offered(
    store_root: Path, h: Any
) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("slash", *"na")
        assert completion(app).values == ("name",)
        await pilot.press("backspace", "backspace", *"resnet")
        assert not completion(app).display
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"lr")
        assert completion(app).values == ("params.lr",)
        await pilot.press("enter")  # only offered: the word is kept and searched
        assert app.screen.query_one(FilterInput).value == "lr"
        assert isinstance(app.focused, RunsTable)
        assert not completion(app).display
        assert h.names(app) == ["mlp-lr0.001", "mlp-lr0.01", "sgd-lr0.01", "sgd-lr0.1"]


async def test_completion_shows_run_logged_names_inert(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    h.build_store(root)
    h.write_run(root, 9, h.Spec("odd", params={"[reverse]x[/reverse]": 1, "lr": 0.3}))
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("slash", *"params.")
        popup = completion(app)
        assert 'params."[reverse]x[/reverse]"' in popup.values
        # Drawn as typed: the markup is text, not a style.
        assert 'params."[reverse]x[/reverse]"' in h.screen_text(app)
        await pilot.press("tab")
        assert app.screen.query_one(FilterInput).value == popup.values[0]


async def test_export_writes_visible_table_to_csv(store_root: Path, tmp_path: Path, h: Any) -> None:
    app = h.make_app(store_root)
    target = tmp_path / "out.csv"
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("slash", *"sgd", "enter", "s")
        await pilot.press("e")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await h.wait_for(pilot, target.exists)
    with target.open() as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["sgd-lr0.01", "sgd-lr0.1"]
    assert [r["params.lr"] for r in rows] == ["0.01", "0.1"]
    assert rows[0]["run_id"] == h.run_id(1)
    assert rows[0]["tags"] == '["sweep"]'  # lists as JSON text, as `mmtop ls -f csv` writes
    assert list(rows[0])[:3] == ["run_id", "status", "name"]


async def test_export_with_marks_writes_only_the_marked_runs(
    store_root: Path, tmp_path: Path, h: Any
) -> None:
    app = h.make_app(store_root)
    target = tmp_path / "marked.csv"
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("j", "space", "space", "e")
        assert app.screen.title_text == "export the 2 marked runs to CSV"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await h.wait_for(pilot, target.exists)
    with target.open() as f:
        assert [r["name"] for r in csv.DictReader(f)] == ["resnet-a", "mlp-lr0.001"]


def test_history_walks_back_and_forth() -> None:
    history = History()
    for text in ("a", "b", "a"):
        history.push(text)
    assert history.items == ["b", "a"]
    assert [history.older(), history.older(), history.older()] == ["a", "b", "b"]
    assert [history.newer(), history.newer()] == ["a", ""]


async def test_bare_keys_and_errors_that_say_what_was_meant(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("slash", *"lr > 0.02")  # the param lr, as in --where
        assert h.names(app) == ["resnet-b", "resnet-a", "sgd-lr0.1"]
        await pilot.press(*" and status = finished")
        assert "text goes in single quotes: 'finished'" in h.screen_text(app)
        assert h.names(app) == ["resnet-b", "resnet-a", "sgd-lr0.1"]
        app.screen.query_one(FilterInput).value = "metrics.val/acc > 0.96"
        await pilot.pause()
        assert """need double quotes: metrics."val/acc\"""" in h.screen_text(app)
        app.screen.query_one(FilterInput).value = 'metrics."val/acc" > 0.97'
        await pilot.pause()
        assert h.names(app) == ["mlp-lr0.001", "mlp-lr0.01"]


async def test_export_asks_before_replacing_a_file_and_shows_its_full_path(
    store_root: Path, tmp_path: Path, h: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "runs.csv"
    target.write_text("keep me\n")
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one(Input).value == str(target)  # the full path
        await pilot.press("enter")
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.title_text == "replace this file?"
        assert app.screen.hint.startswith(f"{target} exists")
        await pilot.press("escape")  # keeps the file
        assert target.read_text() == "keep me\n"
        await pilot.press("e", "enter", "y", "enter")
        await h.wait_for(pilot, lambda: target.read_text() != "keep me\n")
    assert target.read_text().startswith("run_id,")


async def test_a_half_typed_field_name_keeps_the_last_result(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        bar = app.screen.query_one(FilterBar)
        await pilot.press("slash", "p")  # one letter: the runs with a `p` (mlp, gpu, sweep)
        searched = h.names(app)
        assert searched == ["resnet-b", "resnet-a", "mlp-lr0.001", "mlp-lr0.01", "sgd-lr0.01"]
        for key in "arams":  # on the way to SQL: a word search that finds nothing
            await pilot.press(key)
            assert h.names(app) == searched, key
        assert bar.has_class("-error")
        assert "✗ incomplete: a field name is being typed" in h.screen_text(app)
        await pilot.press(*".lr > 0.02")
        assert h.names(app) == ["resnet-b", "resnet-a", "sgd-lr0.1"]
        assert not bar.has_class("-error")
        # Words that find runs still search, as they always did.
        await pilot.press("ctrl+a", "ctrl+k", *"resnet")
        assert h.names(app) == ["resnet-b", "resnet-a"]
        assert not bar.has_class("-error")
