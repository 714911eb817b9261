"""SVG snapshots of the main screens on a fixed store, clock and terminal size.

The store is opened by a relative path from its parent folder so that no machine path is
drawn; run ids, times, host, user and pid are pinned by the fixture (conftest.py).
Update with `pytest tests/tui/test_snapshots.py --snapshot-update` after a deliberate change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmtop.tui.launch import Launch
from mmtop.tui.widgets.preview import RunPreview


@pytest.fixture
def relative_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, h: Any) -> Path:
    h.build_store(tmp_path / "store")
    monkeypatch.chdir(tmp_path)
    return Path("store")


async def _runs_ready(pilot: Any, h: Any) -> None:
    await h.loaded(pilot)
    preview = pilot.app.screen.query_one(RunPreview)
    await h.wait_for(pilot, lambda: len(preview.sparks) == 2)
    await pilot.pause()


def test_runs_screen_wide(relative_store: Path, snap_compare: Any, h: Any) -> None:
    async def ready(pilot: Any) -> None:
        await _runs_ready(pilot, h)
        await pilot.press("space", "j")  # one marked run, cursor on the next

    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=(120, 40), run_before=ready)


def test_runs_screen_80x24_with_sidebar(relative_store: Path, snap_compare: Any, h: Any) -> None:
    async def ready(pilot: Any) -> None:
        await _runs_ready(pilot, h)
        await pilot.press("left_square_bracket")
        await pilot.pause()

    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_runs_screen_bad_filter(relative_store: Path, snap_compare: Any, h: Any) -> None:
    async def ready(pilot: Any) -> None:
        await _runs_ready(pilot, h)
        await pilot.press("slash", *"lr >")

    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=(120, 40), run_before=ready)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_filter_completion_list(
    relative_store: Path, snap_compare: Any, h: Any, size: tuple[int, int]
) -> None:
    async def ready(pilot: Any) -> None:
        await _runs_ready(pilot, h)
        await pilot.press("slash", *"lr > 0.01 and va", "tab", "tab")

    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=size, run_before=ready)


def test_sample_store_read_only_header(relative_store: Path, snap_compare: Any, h: Any) -> None:
    async def ready(pilot: Any) -> None:
        await _runs_ready(pilot, h)

    launch = Launch(relative_store, "sample", read_only=True, hint="sample runs (read-only)")
    app = h.make_app(relative_store, launch=launch)
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def _detail(tab: str, h: Any) -> Any:
    async def ready(pilot: Any) -> None:
        await _runs_ready(pilot, h)
        await pilot.press("G", "enter")  # the oldest run, sgd-lr0.1
        screen = pilot.app.screen
        await h.wait_for(pilot, lambda: getattr(screen, "history_loads", 0) >= 1)
        await pilot.press(tab)
        await pilot.pause()

    return ready


def test_detail_overview(relative_store: Path, snap_compare: Any, h: Any) -> None:
    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_detail("1", h))


def test_detail_metrics(relative_store: Path, snap_compare: Any, h: Any) -> None:
    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_detail("3", h))


def test_detail_metrics_80x24(relative_store: Path, snap_compare: Any, h: Any) -> None:
    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_detail("3", h))


def test_detail_params_80x24(relative_store: Path, snap_compare: Any, h: Any) -> None:
    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_detail("2", h))


def test_help_screen(relative_store: Path, snap_compare: Any, h: Any) -> None:
    async def ready(pilot: Any) -> None:
        await _runs_ready(pilot, h)
        await pilot.press("question_mark")
        await pilot.pause()

    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=(120, 40), run_before=ready)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_no_stale_cells_after_detail_and_back(
    relative_store: Path, snap_compare: Any, h: Any, size: tuple[int, int]
) -> None:
    """enter, then esc: the runs screen is drawn anew, nothing of the detail screen stays."""

    async def ready(pilot: Any) -> None:
        await _runs_ready(pilot, h)
        await pilot.press("enter")
        screen = pilot.app.screen
        await h.wait_for(pilot, lambda: getattr(screen, "history_loads", 0) >= 1)
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("escape")
        await _runs_ready(pilot, h)

    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_no_stale_cells_after_the_column_picker_with_a_filter(
    relative_store: Path, snap_compare: Any, h: Any, size: tuple[int, int]
) -> None:
    """A filter, then the column picker and back: whole columns only, no stray digits."""

    async def ready(pilot: Any) -> None:
        await _runs_ready(pilot, h)
        await pilot.press("slash", *"sgd", "enter", "C")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()

    app = h.make_app(relative_store)
    assert snap_compare(app, terminal_size=size, run_before=ready)
