"""The Datasets screen: versions, a version's lineage and schema, the diff with the one before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mmtop import store
from mmtop.tui.screens.datasets import DatasetsScreen


@pytest.fixture
def datasets_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, h: Any) -> Path:
    root = tmp_path / "store"
    h.build_store(root)
    frame = pl.DataFrame({"id": [1, 2, 3], "label": ["cat", "dog", "cat"]})
    store.log_dataset_version("pets", frame, root, key="id", snapshot=True)
    relabelled = frame.with_columns(pl.Series("label", ["cat", "cat", "cat"]))
    store.log_dataset_version("pets", relabelled, root, key="id", snapshot=True, parent="pets@1")
    monkeypatch.chdir(tmp_path)
    return Path("store")


async def _ready(pilot: Any, h: Any, details: int = 1) -> DatasetsScreen:
    await h.loaded(pilot)
    await pilot.press("D")
    screen = pilot.app.screen
    assert isinstance(screen, DatasetsScreen)
    await h.wait_for(pilot, lambda: screen.loads >= 1 and screen.detail_loads >= details)
    await pilot.pause()
    return screen


async def test_datasets_screen_lists_versions_and_diffs_the_previous(
    datasets_store: Path, h: Any
) -> None:
    app = h.make_app(datasets_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, h)
        assert screen.refs == ["pets@1", "pets@2"]
        assert "datasets: 1 datasets, 2 versions" in h.screen_text(app)
        assert screen.detail_text.startswith("pets@1\n  fingerprint  sha256:")
        assert "  derived      pets@2 (as parent)" in screen.detail_text
        assert "  id           int64" in screen.detail_text
        await pilot.press("j")
        await h.wait_for(pilot, lambda: screen.detail_loads >= 2)
        await pilot.press("d")
        await h.wait_for(pilot, lambda: screen.detail_loads >= 3)
        lines = screen.detail_text.splitlines()
        assert lines[:4] == [
            "pets@1 -> pets@2: different data",
            "rows     3 -> 3 (+0)",
            "schema   same columns and types",
            "shift    1 of 2 columns drifted",
        ]
        assert lines[4].split()[0] == "label"
        assert lines[5] == "rows by key id: 0 added, 0 removed, 1 changed, 2 unchanged"
        await pilot.press("escape")
        assert not isinstance(app.screen, DatasetsScreen)


async def test_empty_registry_says_how_to_add_versions(tmp_path: Path, h: Any) -> None:
    h.build_store(tmp_path / "store")
    app = h.make_app(tmp_path / "store")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _ready(pilot, h, details=0)
        assert screen.refs == []
        assert "no dataset versions: run.log_dataset" in h.screen_text(app)


async def test_datasets_screen_updates_when_a_version_is_registered(
    datasets_store: Path, h: Any
) -> None:
    app = h.make_app(datasets_store, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, h)
        before = screen.loads
        frame = pl.DataFrame({"id": [1, 2, 3, 4], "label": ["cat", "dog", "cat", "dog"]})
        store.log_dataset_version("pets", frame, datasets_store, key="id")
        await h.wait_for(pilot, lambda: "pets@3" in screen.refs, timeout=15)
        assert screen.loads > before


async def test_every_focusable_widget_of_the_datasets_screen_shows_a_focus_bar(
    datasets_store: Path, h: Any
) -> None:
    app = h.make_app(datasets_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _ready(pilot, h)
        await h.focus_bars(pilot, [screen.table, screen.query_one("#datasets-detail")])
