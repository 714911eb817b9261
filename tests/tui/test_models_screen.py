"""The Models screen: versions with aliases, a version's detail, live updates, snapshots."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from mmtop import store
from mmtop.tui.screens.compare import CompareScreen
from mmtop.tui.screens.models import ModelsScreen


def _pin(root: Path, h: Any) -> None:
    """Registration times, users and hosts as the runs fixture pins them."""
    for i, manifest in enumerate(sorted(root.glob("_models/*/versions/*/manifest.json"))):
        doc = json.loads(manifest.read_text())
        doc.update(
            created=(h.NOW - timedelta(hours=5 - i)).isoformat(),
            user="alice",
            host="gpu-box",
            pid=4242,
        )
        manifest.write_text(json.dumps(doc))
    for i, event in enumerate(sorted(root.glob("_models/*/events/*.json"))):
        doc = json.loads(event.read_text())
        doc.update(
            time=(h.NOW - timedelta(hours=4, minutes=-5 * i)).isoformat(),
            user="alice",
            host="gpu-box",
        )
        event.write_text(json.dumps(doc))


def build_registry(root: Path, h: Any) -> None:
    h.build_store(root)
    s = store.open(root)
    for i, name in ((0, "digits-clf"), (1, "digits-clf"), (4, "resnet")):
        weights = root.parent / f"w{i}.onnx"
        weights.write_bytes(bytes([i]) * (100 + i))
        s.register_model(name, run=h.run_id(i), path=weights, description=f"from run {i}")
    s.set_alias("digits-clf", "champion", 1)
    s.set_alias("digits-clf", "candidate", 2)
    s.set_alias("digits-clf", "champion", 2)
    _pin(root, h)


@pytest.fixture
def registry_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, h: Any) -> Path:
    build_registry(tmp_path / "store", h)
    monkeypatch.chdir(tmp_path)
    return Path("store")


async def _models_ready(pilot: Any, h: Any, details: int = 1) -> ModelsScreen:
    await h.loaded(pilot)
    await pilot.press("M")
    screen = pilot.app.screen
    assert isinstance(screen, ModelsScreen)
    await h.wait_for(pilot, lambda: screen.loads >= 1 and screen.detail_loads >= details)
    await pilot.pause()
    return screen


async def test_models_screen_lists_versions_and_shows_detail(registry_store: Path, h: Any) -> None:
    app = h.make_app(registry_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _models_ready(pilot, h)
        assert screen.refs == ["digits-clf/1", "digits-clf/2", "resnet/1"]
        text = h.screen_text(app)
        assert "models: 2 models, 3 versions" in text
        assert "candidate, champion" in text
        await pilot.press("j")
        await h.wait_for(pilot, lambda: screen.detail_loads >= 2)
        await pilot.pause()
        text = screen.detail_text
        assert text.startswith("digits-clf/2  @candidate  @champion\nfrom run 1\n")
        assert "alias @champion: 1 → 2" in text and "alias @candidate: (none) → 2" in text
        assert "run        digits/20260105T090100Z-000001  sgd-lr0.01" in text
        await pilot.press("o")
        await pilot.pause()
        assert type(app.screen).__name__ == "RunDetailScreen"


async def test_models_screen_updates_when_a_version_is_registered(
    registry_store: Path, h: Any
) -> None:
    app = h.make_app(registry_store, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _models_ready(pilot, h)
        before = screen.loads
        weights = Path("new.onnx")
        weights.write_bytes(b"new")
        store.open(registry_store).register_model("resnet", path=weights)
        await h.wait_for(pilot, lambda: "resnet/2" in screen.refs, timeout=15)
        assert screen.loads > before


async def test_models_key_is_in_help_and_palette(registry_store: Path, h: Any) -> None:
    app = h.make_app(registry_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "models: open registry" in titles
        await pilot.press("question_mark")
        await pilot.pause()
        assert "Models" in h.screen_text(app)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_models_screen_snapshot(
    registry_store: Path, snap_compare: Any, h: Any, size: tuple[int, int]
) -> None:
    async def ready(pilot: Any) -> None:
        await _models_ready(pilot, h)

    app = h.make_app(registry_store)
    assert snap_compare(app, terminal_size=size, run_before=ready)


async def test_alias_moves_after_confirmation_and_compare_opens(
    registry_store: Path, h: Any
) -> None:
    app = h.make_app(registry_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _models_ready(pilot, h)
        assert screen.shown_ref == "digits-clf/1"
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("escape")  # cancelled: nothing recorded
        await pilot.pause()
        assert store.open(registry_store).model("digits-clf@champion").version == 2
        await pilot.press("a", *["backspace"] * 8, *"prod", "enter")
        await h.wait_for(pilot, lambda: "prod" in h.screen_text(app))
        assert store.open(registry_store).model("digits-clf@prod").version == 1
        last = store.open(registry_store).model_history("digits-clf").row(-1, named=True)
        assert (last["action"], last["alias"], last["from"], last["to"]) == (
            "alias",
            "prod",
            None,
            "1",
        )
        await pilot.press("c")
        await pilot.pause()
        assert type(app.screen).__name__ == "CompareScreen"


async def test_compare_opens_on_exactly_the_runs_of_two_marked_versions(
    registry_store: Path, h: Any
) -> None:
    app = h.make_app(registry_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _models_ready(pilot, h)
        await pilot.press("j")
        await h.wait_for(pilot, lambda: screen.shown_ref == "digits-clf/2")
        await pilot.press("space")
        await pilot.press("c")  # one marked: says so, stays here
        await pilot.pause()
        assert app.screen is screen and screen.marked == ["digits-clf/2"]
        assert "● digits-clf" in h.screen_text(app)
        await pilot.press("j")
        await h.wait_for(pilot, lambda: screen.shown_ref == "resnet/1")
        await pilot.press("space", "c")
        await pilot.pause()
        assert type(app.screen).__name__ == "CompareScreen"
        assert cast(CompareScreen, app.screen).requested == [h.run_id(1), h.run_id(4)]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("space", "c")  # unmarked again: one left, no compare
        await pilot.pause()
        assert app.screen is screen and screen.marked == ["digits-clf/2"]


async def test_model_card_shows_the_exported_readme_with_run_text_inert(
    registry_store: Path, h: Any
) -> None:
    from mmtop.tui.cli.commands.models_export import model_card
    from mmtop.tui.screens.model_card import ModelCardScreen

    s = store.open(registry_store)
    s.set_model_description("digits-clf/1", "[bold red]x[/] \x1b]8;;https://evil\x07click\x1b[2J")
    app = h.make_app(registry_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _models_ready(pilot, h)
        await pilot.press("m")
        await h.wait_for(pilot, lambda: isinstance(app.screen, ModelCardScreen))
        await pilot.pause()
        card = app.screen
        version = s.model("digits-clf/1")
        expected = model_card(version, s.model_history("digits-clf").to_dicts())
        assert card.card == expected and card.card.startswith("# digits-clf/1\n")
        shown = h.screen_text(app)
        assert "model card: digits-clf/1" in shown and "## How to load" in shown
        # The card's own Markdown escaping shows as typed: Rich markup would eat the \.
        assert "\\[bold red\\]x\\[/\\] click" in shown
        assert "\x1b" not in card.text and "\x07" not in card.text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ModelsScreen)


async def test_alias_is_removed_only_after_typing_it(registry_store: Path, h: Any) -> None:
    app = h.make_app(registry_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _models_ready(pilot, h)
        await pilot.press("u")  # digits-clf/1 has no alias
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("j")
        await h.wait_for(pilot, lambda: screen.shown_aliases == ["candidate", "champion"])
        events = store.open(registry_store).model_history("digits-clf").height
        await pilot.press("u", "enter")  # nothing typed: nothing removed
        await pilot.pause()
        await pilot.press("u", *"prod", "enter")  # not an alias of this version
        await pilot.pause()
        await pilot.press("u", *"champion", "escape")  # cancelled
        await pilot.pause()
        assert store.open(registry_store).model_history("digits-clf").height == events
        await pilot.press("u", *"champion", "enter")
        await h.wait_for(pilot, lambda: screen.shown_aliases == ["candidate"])
        s = store.open(registry_store)
        assert s.model("digits-clf@candidate").version == 2
        with pytest.raises(store.ModelNotFoundError):
            s.model("digits-clf@champion")
        last = s.model_history("digits-clf").row(-1, named=True)
        assert (last["action"], last["alias"], last["from"], last["to"]) == (
            "alias",
            "champion",
            "2",
            None,
        )
        assert s.model_history("digits-clf").height == events + 1


async def test_every_focusable_widget_of_the_models_screen_shows_a_focus_bar(
    registry_store: Path, h: Any
) -> None:
    app = h.make_app(registry_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _models_ready(pilot, h)
        await h.focus_bars(pilot, [screen.table, screen.query_one("#models-detail")])
