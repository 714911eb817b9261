"""Live updates while the app is open, and untrusted text shown literally."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.app import App

from mmtop import store
from mmtop.tui.app import MmtopApp
from mmtop.tui.launch import Launch
from mmtop.tui.screens.detail import RunDetailScreen
from mmtop.tui.screens.runs import RunsScreen
from mmtop.tui.widgets.overview import OverviewPane
from mmtop.tui.widgets.runs_table import RunsTable


def row(app: App[Any], name: str) -> dict[str, object]:
    model = app.screen.query_one(RunsTable).model
    hits = model.raw.filter(model.raw["name"] == name)
    assert hits.height == 1
    return hits.row(0, named=True)


async def test_live_run_appears_updates_and_finishes(store_root: Path, h: Any) -> None:
    app = h.make_app(store_root, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        screen = app.screen
        # Keys are tested elsewhere; here the state is set directly, because Pilot waits for
        # an idle process after each key and a live store keeps worker threads busy.
        table = screen.query_one(RunsTable)
        screen.sort_by("name")
        table.move_to(0)
        screen.action_toggle_mark()  # mlp-lr0.001
        screen.set_filter("lr")
        marked = set(screen.marks)
        assert marked == {h.run_id(3)}
        table.move_to(2)
        cursor_run = table.current_run_id
        run = store.Run(
            experiment="digits",
            name="live-lr0.5",
            params={"lr": 0.5},
            root=store_root,
            flush_every=0.1,
            capture_env=False,
            capture_code=False,
            capture_system=False,
        )
        try:
            await h.wait_for(pilot, lambda: "live-lr0.5" in h.names(app))
            assert row(app, "live-lr0.5")["status"] == "running"
            assert h.names(app) == sorted(h.names(app))  # the sort survived the reload
            for step in range(6):
                run.log({"train/loss": 1.0 / (step + 1)}, step=step)
            await h.wait_for(pilot, lambda: row(app, "live-lr0.5")["last_step"] == 5)
            assert screen.query_one("#status-bar").status.running == 1
        finally:
            run.finish()
        await h.wait_for(pilot, lambda: row(app, "live-lr0.5")["status"] == "finished")
        assert screen.marks == marked
        assert screen.state.filter_text == "lr"
        assert table.current_run_id == cursor_run


async def test_markup_and_escapes_in_untrusted_text_are_inert(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "store"
    specs = [
        h.Spec("[red]x[/red]", params={"note": "[b]bold[/b]", "lr": 1.0}, tags=["[i]t[/i]"]),
        h.Spec("plain", params={"note": "\x1b[2Jwiped", "lr": 2.0}),
    ]
    h.build_store(root, specs)
    # Names are validated by store.Run; a file written by other tools may still carry escapes.
    meta_path = root / "digits" / h.run_id(1) / "run.json"
    meta = json.loads(meta_path.read_text())
    meta["name"] = "evil\x1b[2J\x1b]0;title\x07name"
    meta_path.write_text(json.dumps(meta))
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        text = h.screen_text(app)
        assert "[red]x[/red]" in text
        assert "[b]bold[/b]" in text
        assert "[i]t[/i]" in text
        assert "evilname" in text  # the clear-screen and title sequences are dropped
        assert "wiped" in text
        assert "\x1b" not in text and "\x07" not in text
        await pilot.press("G", "enter")  # the detail screen of the [red]x[/red] run
        await h.wait_for(pilot, lambda: getattr(app.screen, "loads", 0) >= 1)
        await pilot.pause()
        text = h.screen_text(app)
        assert "[red]x[/red]" in text and "[i]t[/i]" in text
        assert "\x1b" not in text


async def test_the_app_goes_quiet_once_a_change_is_read(store_root: Path, h: Any) -> None:
    """A store change leads to a bounded number of reloads, not a loop that keeps a core busy
    (the app once re-posted every change message it saw, forever)."""
    app = h.make_app(store_root, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        with store.Run(root=store_root, name="newcomer", capture_system=False) as run:
            run.log({"x": 1.0})
        await h.wait_for(pilot, lambda: "newcomer" in h.names(app))
        await pilot.pause(1.0)  # let the burst of file events settle
        loads = app.screen.loads
        await pilot.pause(2.0)  # a quiet store: nothing to read
        assert app.screen.loads - loads <= 1


async def test_preview_follows_the_live_run_under_the_cursor(tmp_path: Path, h: Any) -> None:
    root = tmp_path / "live"
    run = store.Run(root=root, name="trainer", flush_every=600, capture_system=False)
    try:
        run.log({"loss": 1.0}, step=3)
        run.flush()
        app = h.make_app(root, watch=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await h.loaded(pilot)
            await h.wait_for(pilot, lambda: "step 3" in h.screen_text(app))
            run.log({"loss": 0.5}, step=41)
            run.flush()
            await h.wait_for(pilot, lambda: "step 41" in h.screen_text(app))
    finally:
        run.finish()


async def test_back_on_the_runs_screen_live_runs_are_read_again_at_once(
    store_root: Path, h: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmtop.tui import app as app_module

    monkeypatch.setattr(app_module, "LIVE_RELOAD_EVERY", 3600.0)  # only the resume reads
    run = store.Run(
        experiment="digits",
        name="live",
        root=store_root,
        capture_env=False,
        capture_code=False,
        capture_system=False,
    )
    try:
        app = h.make_app(store_root)
        async with app.run_test(size=(120, 40)) as pilot:
            await h.loaded(pilot)
            screen = app.screen
            assert screen.model.running() == 1
            loads = screen.loads
            await pilot.press("enter")
            await pilot.press("escape")
            await h.wait_for(pilot, lambda: screen.loads > loads, timeout=5.0)
    finally:
        run.finish()


async def test_ages_and_durations_of_a_live_run_tick_between_reloads(
    tmp_path: Path, h: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmtop.tui import app as app_module

    # No reload after the first: what moves, moves on the app's clock alone.
    monkeypatch.setattr(app_module, "LIVE_RELOAD_EVERY", 3600.0)
    root = tmp_path / "live"
    run = store.Run(
        root=root, name="trainer", capture_env=False, capture_code=False, capture_system=False
    )
    try:
        created = store.open(root).run(run.run_id).created
        assert created is not None
        clock = [created + timedelta(seconds=38)]
        app = MmtopApp(Launch(root, "path"), now=lambda: clock[0], watch=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await h.loaded(pilot)
            runs = app.screen
            assert isinstance(runs, RunsScreen) and runs.model.running() == 1

            def table_row() -> list[str]:
                lines = h.screen_text(app).splitlines()
                line: str = next(x for x in lines if " trainer " in x and "▌" in x)
                return line.split("trainer", 1)[1].split()

            await h.wait_for(pilot, lambda: table_row()[:2] == ["38s", "38s"])
            await h.wait_for(pilot, lambda: "· 38s · 38s ago" in h.screen_text(app))
            clock[0] = created + timedelta(seconds=60)
            # Age and duration in the table, and the preview, without reading the store.
            await h.wait_for(pilot, lambda: table_row()[:2] == ["1m", "1m00s"])
            await h.wait_for(pilot, lambda: "· 1m00s · 1m ago" in h.screen_text(app))
            assert runs.loads == 1
            await pilot.press("enter")
            detail = app.screen
            assert isinstance(detail, RunDetailScreen)
            await h.wait_for(pilot, lambda: detail.loads == 1)
            overview = detail.query_one(OverviewPane)
            await h.wait_for(pilot, lambda: re.search(r"duration +1m00s", h.screen_text(app)))
            clock[0] = created + timedelta(seconds=125)
            await h.wait_for(pilot, lambda: re.search(r"duration +2m05s", h.screen_text(app)))
            text = h.screen_text(app)
            assert "(2m ago)" in text.split("created", 1)[1].splitlines()[0]
            assert "trainer  default / " in text and f"{run.run_id}  2m05s" in text  # the head
            assert detail.loads == 1 and runs.loads == 1
            assert overview is detail.query_one(OverviewPane)
    finally:
        run.finish()


KILLED_WRITER = """
import sys, time
from mmtop import store
run = store.Run(experiment="live", name="doomed", root=sys.argv[1], flush_every=0.5,
                capture_env=False, capture_code=False, capture_system=False)
print(run.run_id, flush=True)
i = 0
while True:
    run.log({"loss": 1.0 / (i + 1)})
    i += 1
    time.sleep(0.05)
"""


async def test_a_killed_writer_turns_crashed_on_every_screen_within_one_read(
    tmp_path: Path, h: Any, spawn: Callable[..., Any]
) -> None:
    from mmtop.tui import app as app_module

    root = tmp_path / "live"
    proc = spawn(KILLED_WRITER, str(root))
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read() if proc.stderr else ""
    app = h.make_app(root, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        await h.wait_for(pilot, lambda: runs.model.running() == 1, timeout=20)
        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, RunDetailScreen)
        await h.wait_for(pilot, lambda: detail.info is not None and detail.info.status == "running")
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL  # reaped: the pid is really gone
        await h.wait_for(
            pilot,
            lambda: detail.info is not None and detail.info.status == "crashed",
            timeout=20,
            what="the detail screen to say crashed",
        )
        # The runs screen under it follows within one read, not at its next one after esc.
        await h.wait_for(
            pilot,
            lambda: runs.model.raw["status"].to_list() == ["crashed"],
            timeout=app_module.LIVE_RELOAD_EVERY,
            what="the runs screen to say crashed",
        )
        loads = runs.loads
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is runs
        line = next(x for x in h.screen_text(app).splitlines() if " doomed " in x)
        assert "☠ doomed" in line
        assert runs.loads - loads <= 1
