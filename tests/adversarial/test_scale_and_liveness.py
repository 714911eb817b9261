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
from mmtop.tui.app import MmtopApp
from mmtop.tui.flat import flatten
from mmtop.tui.launch import Launch

NO_CAPTURE = {"capture_env": False, "capture_code": False, "capture_system": False}


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
