"""Drive the installed app headless over a store: open a run, every tab, compare, quit.

Run by the clean-venv tests with the venv's own Python (no pytest there), as
`python smoke_app.py ROOT|--samples ...` (`--samples`: the bundled sample runs, found the
way `mmtop` with no path finds them). Prints `ok` when every screen opened without an error;
any exception (a missing import included) fails the process with its traceback.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmtop.tui.app import MmtopApp
from mmtop.tui.launch import resolve
from mmtop.tui.screens.compare import TABS as COMPARE_TABS
from mmtop.tui.screens.compare import CompareScreen
from mmtop.tui.screens.detail import TABS as DETAIL_TABS
from mmtop.tui.screens.detail import RunDetailScreen
from mmtop.tui.screens.runs import RunsScreen


async def wait_for(pilot: Any, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def tour(where: str) -> None:
    launch = resolve(None if where == "--samples" else where, environ={})
    assert (launch.source == "sample") == (where == "--samples"), launch
    assert isinstance(launch.root, Path) and launch.root.is_dir(), launch
    app = MmtopApp(launch, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        runs = app.screen
        assert isinstance(runs, RunsScreen), runs
        await wait_for(pilot, lambda: runs.loads >= 1, "the runs table")
        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, RunDetailScreen), detail
        await wait_for(pilot, lambda: detail.loads >= 1 and detail.history_loads >= 1, "a run")
        for number in range(1, len(DETAIL_TABS) + 1):
            await pilot.press(str(number))
            await pilot.pause()
        await pilot.press("escape")
        assert app.screen is runs
        await pilot.press("c")
        compare = app.screen
        assert isinstance(compare, CompareScreen), compare
        await wait_for(pilot, lambda: compare.loads >= 1, "the compare screen")
        for number in range(1, len(COMPARE_TABS) + 1):
            await pilot.press(str(number))
            await pilot.pause()
        await pilot.press("escape")
        assert app.screen is runs
        await pilot.press("q")
    assert app.return_code == 0, app.return_code


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        asyncio.run(tour(arg))
    print("ok")
