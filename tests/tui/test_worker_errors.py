"""A worker that fails is reported in one place and never ends the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmtop.tui.screens.runs import RunsScreen
from mmtop.tui.widgets.runs_table import RunsTable


def _boom() -> None:
    raise RuntimeError("probe \x1b[2J[red]exploded[/red]")


async def test_an_unforeseen_worker_error_is_shown_and_the_app_stays(
    store_root: Path, h: Any
) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await h.loaded(pilot)
        screen = app.screen
        rows = len(screen.query_one(RunsTable).visible_ids())
        screen.run_worker(_boom, thread=True, exit_on_error=False, group="probe")
        shown = "probe failed: RuntimeError: probe [red]exploded[/red]"
        # The toast is plain text: the error's markup is shown as typed, its escapes removed.
        await h.wait_for(pilot, lambda: "probe failed" in h.screen_text(app))
        assert shown in h.screen_text(app)
        assert app.is_running and app.screen is screen
        assert len(screen.query_one(RunsTable).visible_ids()) == rows


async def test_a_failed_reload_keeps_the_table_and_the_next_reload_works(
    store_root: Path, h: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = h.make_app(store_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        before = screen.table.visible_ids()

        class Broken:
            def __init__(self, frame: object) -> None:
                raise ValueError("bad frame")

        real = screen.__class__.__module__
        monkeypatch.setattr(f"{real}.RunsModel", Broken)
        screen.request_reload()
        await h.wait_for(pilot, lambda: "bad frame" in screen._message)
        assert screen._message == "ValueError: bad frame"
        assert screen.table.visible_ids() == before
        monkeypatch.undo()
        loads = screen.loads
        screen.request_reload()
        await h.wait_for(pilot, lambda: screen.loads > loads)
        assert screen.table.visible_ids() == before


def test_every_worker_leaves_its_errors_to_the_one_handler() -> None:
    """A worker started with the default exit_on_error=True ends the app on any error."""
    import re

    import mmtop.tui

    source = Path(mmtop.tui.__file__).parent
    starts = re.compile(r"@work\((?P<args>[^)]*)\)|run_worker\((?P<call>[^)]*)\)")
    careless = [
        f"{path.relative_to(source)}: {m.group(0)}"
        for path in sorted(source.rglob("*.py"))
        for m in starts.finditer(path.read_text(encoding="utf-8"))
        if "exit_on_error=False" not in m.group(0)
    ]
    assert careless == []
