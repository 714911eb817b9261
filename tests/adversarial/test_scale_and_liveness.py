"""Scale and liveness attacks: runs with very many metric keys, param names that collide once
flattened, the app quitting during a long load, `mmtop PATH` without a terminal, and the
store's root folder removed and made again under a running watcher."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mmtop import store
from mmtop.store.reader import Store
from mmtop.tui.app import MmtopApp
from mmtop.tui.flat import flatten
from mmtop.tui.launch import Launch
from mmtop.tui.widgets.runs_table import RunsTable
from mmtop.tui.workers import busy_workers

NO_CAPTURE: dict[str, Any] = {"capture_env": False, "capture_code": False, "capture_system": False}


def _mmtop(*args: str, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    kw.setdefault("timeout", 120)
    return subprocess.run(
        [sys.executable, "-m", "mmtop.tui.cli", *args], capture_output=True, check=False, **kw
    )


async def _until(condition: Any, what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def _clashing_run(root: Path) -> str:
    """A run whose params hold both `a.b` and `a: {b}` (any writer may produce the file)."""
    with store.Run(experiment="exp", name="clash", root=root, **NO_CAPTURE) as run:
        run.log({"loss": 0.5}, step=0)
    (run.path / "params.json").write_text(json.dumps({"a.b": 1, "a": {"b": 2}, "a.b#2": 3}))
    return run.run_id


# -- one flatten, one rule for `a.b` beside `a: {b}` --------------------------------------


def test_flatten_names_colliding_paths_in_key_order() -> None:
    runs = pl.DataFrame(
        {
            "run_id": ["r"],
            "params": [{"a": {"b": 2, "c": {"d": 4}}, "a.b": 1, "a.b#2": 3, "a.c.d": 5}],
            "metrics": [{"x.y": 0.5}],
        }
    )
    flat = flatten(runs)
    assert flat.frame.row(0, named=True) == {
        "run_id": "r",
        "params.a.b": 2,
        "params.a.c.d": 4,
        "params.a.b#3": 1,  # `#2` is a real key's name already
        "params.a.b#2": 3,
        "params.a.c.d#2": 5,
        "metrics.x.y": 0.5,
    }
    assert flat.paths["params.a.b#3"] == ("params", "a.b")
    assert flat.paths["params.a.c.d"] == ("params", "a", "c", "d")
    assert flat.paths["params.a.c.d#2"] == ("params", "a.c.d")


def test_flatten_copes_with_keys_holding_any_character() -> None:
    runs = pl.DataFrame({"params": [{"a\x00b": 1, "a": {"b": 2, "c": {}}, "a.b": 3}]})
    flat = flatten(runs)
    assert flat.frame.row(0, named=True) == {
        "params.a.b": 2,
        "params.a.b#2": 3,
        "params.a\x00b": 1,
    }
    assert flat.paths["params.a\x00b"] == ("params", "a\x00b")


def test_flatten_keeps_plain_columns_and_drops_fieldless_structs() -> None:
    runs = pl.DataFrame({"run_id": ["r"], "params": [{"lr": 0.1}]}).with_columns(
        pl.lit(None, dtype=pl.Struct([])).alias("datasets")
    )
    flat = flatten(runs)
    assert flat.frame.columns == ["run_id", "params.lr"]
    assert flat.paths == {"run_id": ("run_id",), "params.lr": ("params", "lr")}


def test_clashing_params_open_in_the_app_and_list_the_same_in_ls(tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    run_id = _clashing_run(root)

    async def in_app() -> dict[str, Any]:
        app = MmtopApp(Launch(root, "path"), watch=False)
        async with app.run_test(size=(160, 40)) as pilot:
            await _until(lambda: getattr(app.screen, "loads", 0) >= 1, "the first load")
            await pilot.pause()
            model = app.screen.model  # type: ignore[attr-defined]
            row = model.flat.select(pl.col("^params\\..*$")).row(0, named=True)
            assert app.is_running
        return dict(row)

    assert asyncio.run(in_app()) == {"params.a.b": 2, "params.a.b#3": 1, "params.a.b#2": 3}

    csv = _mmtop("ls", "--root", str(root), "--format", "csv", "--columns", "^params")
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.decode().splitlines() == ["params.a.b,params.a.b#3,params.a.b#2", "2,1,3"]
    js = _mmtop("ls", "--root", str(root), "--format", "json", "--columns", "run_id,^params")
    assert json.loads(js.stdout) == [
        {"run_id": run_id, "params": {"a": {"b": 2}, "a.b": 1, "a.b#2": 3}}
    ]
    where = _mmtop("ls", "--root", str(root), "-q", "--where", 'params."a.b" = 1')
    assert where.stdout.decode().split() == [run_id]


# -- the app with a very wide run ------------------------------------------------------


def _wide_run(root: Path, keys: int) -> str:
    with store.Run(experiment="wide", name="wide", root=root, **NO_CAPTURE) as run:
        run.log({f"m{i:06d}": float(i) for i in range(keys)}, step=0)
    return run.run_id


def test_a_repaint_draws_only_the_columns_on_screen(tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    _wide_run(root, 5000)

    async def scenario() -> None:
        app = MmtopApp(Launch(root, "path"), watch=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await _until(lambda: getattr(app.screen, "loads", 0) >= 1, "the first load")
            await pilot.pause()
            table = app.screen.query_one("#runs-table", RunsTable)
            assert len(table.columns) > 5000
            fetched: list[int] = []  # how many columns each repaint asks the model for
            rows = table.model.rows

            def counted(view: Any, start: int, stop: int, keys: list[str]) -> Any:
                fetched.append(len(keys))
                return rows(view, start, stop, keys)

            table.model.rows = counted  # type: ignore[method-assign]
            table.invalidate()
            header, row = table.render_line(0), table.render_line(1)
            # Was: every one of the 5k columns fetched and formatted for every line drawn.
            assert fetched and max(fetched) < 100
            assert len(list(header)) < 150 and len(list(row)) < 150
            assert "m000000" in header.text and "m004999" not in header.text
            table.scroll_to(x=table.virtual_size.width, animate=False, immediate=True)
            await pilot.pause()
            header, row = table.render_line(0), table.render_line(1)
            assert len(list(header)) < 150
            assert "m004999" in header.text and "m000000" not in header.text
            assert "4999" in row.text.split()  # the last metric, before age..experiment
            assert header.cell_length == row.cell_length == table.scrollable_content_region.width
            await pilot.press("q")
        assert app.return_code == 0

    asyncio.run(scenario())


def test_q_quits_while_a_huge_store_is_still_loading(tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    _wide_run(root, 10_000)

    async def scenario() -> None:
        app = MmtopApp(Launch(root, "path"), watch=False)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = app.screen

            def loading() -> bool:
                return any(w.group == "runs-load" and w.is_running for w in app.workers)

            await _until(loading, "the load to start")
            await pilot.press("q")
            await _until(lambda: not app.is_running, "the app to quit")
            assert screen.loads == 0  # type: ignore[attr-defined]  # the load never landed
        assert app.return_code == 0

    asyncio.run(scenario())


def test_q_during_a_load_that_does_not_end_quits_without_waiting_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "mmruns"
    _wide_run(root, 10)
    started, release = threading.Event(), threading.Event()
    real = Store.runs

    def stuck(self: Store, where: str | None = None) -> pl.DataFrame:
        started.set()  # a read that cannot be interrupted, as a 100k-key run's would be
        release.wait(60)
        return real(self, where)

    monkeypatch.setattr(Store, "runs", stuck)

    async def scenario() -> None:
        app = MmtopApp(Launch(root, "path"), watch=False)
        async with app.run_test(size=(120, 30)) as pilot:
            await _until(started.is_set, "the load to start")
            await pilot.press("q")
            await _until(lambda: not app.is_running, "the app to quit")
        assert app.return_code == 0

    try:
        # Was: the event loop's shutdown waited for the load (here 60 s, for a wide run
        # minutes), so after `q` the terminal hung until the read was over.
        asyncio.run(scenario())
        assert busy_workers(), "the load should still be running, not waited for"
    finally:
        release.set()


# -- no terminal, and a root folder that goes away ---------------------------------------


def test_the_app_without_a_terminal_exits_with_one_line(tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    with store.Run(experiment="exp", root=root, **NO_CAPTURE):
        pass
    for args in ([str(root)], ["--root", str(root)]):
        proc = _mmtop(*args, stdin=subprocess.DEVNULL, timeout=60)  # was: 100% CPU, forever
        assert proc.returncode == 2
        assert proc.stdout == b""
        assert proc.stderr.decode().splitlines() == [
            "mmtop: error: the terminal app needs a terminal, and stdin and stdout are not "
            "one; headless, use a command such as `mmtop ls`"
        ]


@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
def test_watcher_sees_new_runs_after_the_root_is_removed_and_made_again(
    root: Path, polling: bool, wait_until: Any
) -> None:
    with store.Run(experiment="exp", root=root, **NO_CAPTURE):
        pass
    fired = threading.Event()
    watcher = store.watch(root, fired.set, debounce=0.05, poll_every=0.1, force_polling=polling)
    try:
        assert watcher.mode == ("polling" if polling else "events")
        shutil.rmtree(root)
        assert fired.wait(20), "the root's removal went unnoticed"
        fired.clear()
        root.mkdir()
        wait_until(fired.is_set, what="the root made again")
        for n in range(2):  # not a one-off: every later run is seen too
            fired.clear()
            with store.Run(experiment=f"exp{n}", root=root, **NO_CAPTURE):
                pass
            wait_until(fired.is_set, what=f"new run {n} in the new root")
    finally:
        watcher.stop()
