"""The watcher sees new runs (events, polling); `from mmtop import store` never imports Textual."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.store.frame_cache import FRAME_NAME


@pytest.mark.parametrize("force_polling", [True, False], ids=["polling", "events"])
def test_watcher_reports_a_new_run(root: Path, force_polling: bool) -> None:
    with store.Run(experiment="e", root=root, run_id="first") as run:
        run.log({"x": 1.0})
    new_folder = root / "e" / "second"
    appeared = threading.Event()
    calls: list[bool] = []

    def on_change() -> None:
        calls.append(new_folder.exists())
        if new_folder.exists():
            appeared.set()

    watcher = store.watch(
        root, on_change, force_polling=force_polling, poll_every=0.05, debounce=0.02
    )
    try:
        assert watcher.mode == ("polling" if force_polling else "events")
        with store.Run(experiment="e", root=root, run_id="second") as run:
            run.log({"x": 2.0})
        assert appeared.wait(timeout=10), f"on_change never saw the new run: {calls}"
    finally:
        watcher.stop()


def test_watcher_reports_a_new_experiment(root: Path) -> None:
    with store.Run(experiment="e", root=root):
        pass
    appeared = threading.Event()
    target = root / "brand-new"

    def on_change() -> None:
        if target.exists():
            appeared.set()

    watcher = store.watch(root, on_change, poll_every=0.05, debounce=0.02)
    try:
        with store.Run(experiment="brand-new", root=root):
            pass
        assert appeared.wait(timeout=10)
    finally:
        watcher.stop()


def test_stopped_watcher_stays_quiet(root: Path) -> None:
    with store.Run(experiment="e", root=root):
        pass
    calls: list[int] = []
    watcher = store.watch(root, lambda: calls.append(1), force_polling=True, poll_every=0.02)
    watcher.stop()
    with store.Run(experiment="e", root=root):
        pass
    seen = len(calls)
    # A stopped watcher's thread has exited: nothing can call back any more.
    assert not watcher._thread.is_alive()
    assert len(calls) == seen == 0


def _prints_ok(spawn: Callable[..., Any], code: str) -> None:
    proc = spawn(code)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip() == "ok"


def test_import_store_does_not_import_textual(spawn: Callable[..., Any]) -> None:
    code = (
        "import sys\nfrom mmtop import store\n"
        "store.open; store.Run; store.watch\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    _prints_ok(spawn, code)


def test_logging_and_reading_stay_light(spawn: Callable[..., Any], root: Path) -> None:
    """A training process never pays for pandas or Textual; a reader not for pyarrow/numpy."""
    code = (
        "import sys\nfrom mmtop import store\n"
        f"root = {str(root)!r}\n"
        "with store.Run(root=root, flush_every=0.01, system_every=0.01) as run:\n"
        "    for i in range(40):\n"
        "        run.log({'a': float(i), 'b': i})\n"
        "        run.flush()\n"
        "heavy = [m for m in ('pandas', 'textual') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "print('ok')\n"
    )
    _prints_ok(spawn, code)
    code = (
        "import sys\nfrom mmtop import store\n"
        f"s = store.open({str(root)!r})\n"
        "frame = s.runs(where='metrics.a >= 0')\n"
        "assert frame.height == 1\n"
        "assert s.history(frame['run_id']).height == 80\n"
        "heavy = [m for m in ('pandas', 'textual', 'pyarrow', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "print('ok')\n"
    )
    _prints_ok(spawn, code)


def test_readers_writing_their_cache_do_not_look_like_changes(root: Path) -> None:
    with store.Run(root=root, capture_system=False) as run:
        run.log({"a": 1.0})
    fired = threading.Event()
    watcher = store.watch(root, fired.set, debounce=0.05)
    try:
        assert watcher.mode == "events"
        s = store.open(root)
        shutil.rmtree(root / ".mmtop", ignore_errors=True)
        for _ in range(3):
            s = store.open(root)  # a fresh reader each time: writes .mmtop/ anew
            s.runs()
        assert not fired.wait(1.0)
        with store.Run(root=root, capture_system=False):
            pass
        assert fired.wait(10)
    finally:
        watcher.stop()


def test_cache_false_and_unchanged_stores_write_no_cache(root: Path) -> None:
    with store.Run(root=root, capture_system=False):
        pass
    store.open(root, cache=False).runs()
    assert not (root / ".mmtop").exists()
    old = time.time() - 3600  # settled files: trusted by the cache (recent ones never are)
    for path in root.rglob("*"):
        os.utime(path, (old, old))
    s = store.open(root)
    s.runs()
    frame_file = root / ".mmtop" / FRAME_NAME
    first = frame_file.stat().st_mtime_ns
    s.runs()
    assert frame_file.stat().st_mtime_ns == first  # nothing changed: not rewritten


@pytest.mark.parametrize("polling", [False, True])
def test_tag_edits_and_resumes_of_ended_runs_are_seen(root: Path, polling: bool) -> None:
    with store.Run(root=root, run_id="done", capture_system=False):
        pass
    fired = threading.Event()
    watcher = store.watch(root, fired.set, debounce=0.05, poll_every=0.2, force_polling=polling)
    try:
        store.open(root).add_tags("done", ["best"])
        assert fired.wait(10)
        fired.clear()
        store.Run(root=root, run_id="done", resume=True, capture_system=False).finish()
        assert fired.wait(10)
    finally:
        watcher.stop()


def test_a_run_moved_to_another_experiment_is_found_there(root: Path) -> None:
    with store.Run(root=root, experiment="old", name="r1", capture_system=False) as run:
        run.log({"a": 1.0})
    s = store.open(root)
    assert s.runs()["experiment"].to_list() == ["old"]
    (root / "new").mkdir()
    os.rename(run.path, root / "new" / run.run_id)
    assert s.runs()["experiment"].to_list() == ["new"]
    assert s.resolve("new/r1") == run.run_id
    assert s.history(run.run_id)["value"].to_list() == [1.0]
    assert s.add_tags(run.run_id, ["moved"]) == ["moved"]


@pytest.mark.parametrize("force_polling", [True, False], ids=["polling", "events"])
def test_watcher_reports_a_committed_dataset_version(root: Path, force_polling: bool) -> None:
    import polars as pl

    store.log_dataset_version("d", pl.DataFrame({"x": [1]}), root)
    committed = root / "_datasets" / "d" / "versions" / "2" / "manifest.json"
    seen = threading.Event()

    def on_change() -> None:
        if committed.exists():
            seen.set()

    watcher = store.watch(
        root, on_change, force_polling=force_polling, poll_every=0.05, debounce=0.02
    )
    try:
        # The snapshot is written between the claim (a new folder: an event) and the manifest.
        big = pl.DataFrame({"x": range(1_000_000)}).with_columns(y=pl.col("x") * 0.5)
        store.log_dataset_version("d", big, root, snapshot=True)
        assert seen.wait(timeout=10), "on_change never ran after the manifest existed"
    finally:
        watcher.stop()
