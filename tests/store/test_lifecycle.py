"""How runs end: kill -9 (crashed, resumable), SIGTERM, Ctrl-C, exceptions."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mmtop import store

LOOP_WRITER = """
import math, sys, time
from mmtop import store
run = store.Run(experiment="crash", name="looping", root=sys.argv[1], flush_every=0.2)
print(run.run_id, flush=True)
i = 0
while True:
    run.log({"x": math.sin(i), "y": i * 0.5})
    i += 1
    if i % 200 == 0:
        time.sleep(0.002)  # keep the volume modest on a loaded box
"""

SIGTERM_WRITER = """
import sys, time
from mmtop import store
run = store.Run(experiment="term", root=sys.argv[1], flush_every=600)
for i in range(1000):
    run.log({"x": i / 7, "y": -i})
print(run.run_id, flush=True)
while True:
    time.sleep(0.05)
"""

UNCAUGHT_WRITER = """
import sys
from mmtop import store
run = store.Run(experiment="boom", root=sys.argv[1], flush_every=600)
run.log({"x": 1.0})
print(run.run_id, flush=True)
raise RuntimeError("diverged at step 0")
"""


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("metrics/*.parquet"))


def _series(df: pl.DataFrame, key: str) -> tuple[list[int], list[float]]:
    sub = df.filter(pl.col("key") == key).sort("step")
    return sub["step"].to_list(), sub["value"].to_list()


def test_kill_9_keeps_flushed_prefix_shows_crashed_and_resumes(
    root: Path, spawn: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    proc = spawn(LOOP_WRITER, str(root))
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read()
    folder = root / "crash" / run_id
    wait_until(lambda: len(_parts(folder)) >= 2, timeout=20, what="two flushed parts")
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL  # reaped: the pid is really gone

    s = store.open(root)
    hist = s.history(run_id)
    steps_x, values_x = _series(hist, "x")
    steps_y, values_y = _series(hist, "y")
    n = len(steps_x)
    assert n > 0
    # A contiguous prefix of what was logged, with the exact values, for every key.
    assert steps_x == list(range(n)) and steps_y == list(range(n))
    assert values_x == [math.sin(i) for i in range(n)]
    assert values_y == [i * 0.5 for i in range(n)]
    assert s.problems() == []
    assert s.runs().height == 1

    # Stale heartbeat rule.
    wait_until(
        lambda: store.open(root, stale_after=0.5).run(run_id).status == "crashed",
        timeout=10,
        what="crashed via a stale heartbeat",
    )
    # Same-host dead-pid rule, with the default (long) stale_after.
    wait_until(
        lambda: store.open(root).runs()["status"].to_list() == ["crashed"],
        timeout=15,
        what="crashed via the dead pid",
    )
    assert store.open(root).run(run_id).meta["status"] == "running"  # the file says running

    with store.Run(run_id=run_id, resume=True, root=root) as run:
        assert store.open(root).run(run_id).status == "running"
        run.log({"x": 42.0, "y": -1.0})
    info = store.open(root).run(run_id)
    assert info.status == "finished"
    assert len(info.meta["resumed"]) == 1
    hist = store.open(root).history(run_id)
    steps_x, values_x = _series(hist, "x")
    assert steps_x == [*range(n), n]
    assert values_x[-1] == 42.0
    assert hist.select("key", "step").is_duplicated().sum() == 0


def test_sigterm_flushes_and_marks_killed(root: Path, spawn: Callable[..., Any]) -> None:
    proc = spawn(SIGTERM_WRITER, str(root))
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read()
    folder = root / "term" / run_id
    assert _parts(folder) == []  # nothing flushed yet: flush_every is long
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == -signal.SIGTERM  # the process still dies by the signal

    s = store.open(root)
    info = s.run(run_id)
    assert info.status == "killed"
    assert info.error is not None and info.error["type"] == "SIGTERM"
    hist = s.history(run_id)
    assert _series(hist, "x") == (list(range(1000)), [i / 7 for i in range(1000)])
    assert _series(hist, "y") == (list(range(1000)), [float(-i) for i in range(1000)])


def test_uncaught_exception_in_a_script_marks_failed(root: Path, spawn: Callable[..., Any]) -> None:
    proc = spawn(UNCAUGHT_WRITER, str(root))
    run_id = proc.stdout.readline().strip()
    assert proc.wait(timeout=20) == 1
    info = store.open(root).run(run_id)
    assert info.status == "failed"
    assert info.error is not None
    assert info.error["type"] == "RuntimeError"
    assert info.error["message"] == "diverged at step 0"
    assert store.open(root).history(run_id)["value"].to_list() == [1.0]


def test_keyboard_interrupt_marks_killed(root: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with store.Run(root=root) as run:
            run.log({"x": 1.0})
            raise KeyboardInterrupt
    info = store.open(root).run(run.run_id)
    assert info.status == "killed"
    assert info.error is not None
    assert info.error["type"] == "KeyboardInterrupt"
    assert store.open(root).history(run.run_id)["value"].to_list() == [1.0]


def test_exception_marks_failed_with_error_details(root: Path) -> None:
    def train(run: store.Run) -> None:
        run.log({"loss": 0.5})
        raise ValueError("loss is nan at step 7")

    with pytest.raises(ValueError):
        with store.Run(root=root) as run:
            train(run)
    info = store.open(root).run(run.run_id)
    assert info.status == "failed"
    assert info.error is not None
    assert info.error["type"] == "ValueError"
    assert info.error["message"] == "loss is nan at step 7"
    tb = info.error["traceback"]
    assert "Traceback" in tb and "in train" in tb and "loss is nan at step 7" in tb
    row = store.open(root).runs().row(0, named=True)
    assert row["status"] == "failed" and row["ended"] is not None


def _fake_run(root: Path, run_id: str, host: str, pid: int, beat_age: float) -> Path:
    """A run folder as a live writer leaves it, with a heartbeat `beat_age` seconds old."""
    folder = root / "fake" / run_id
    folder.mkdir(parents=True)
    (root / "mmtop-store.json").write_text('{"format": "mmtop-store", "version": 1}')
    meta = {
        "schema_version": 1,
        "run_id": run_id,
        "experiment": "fake",
        "name": run_id,
        "status": "running",
        "created": dt.datetime.now(dt.UTC).isoformat(),
        "ended": None,
        "host": host,
        "user": "u",
        "pid": pid,
        "command": ["train.py"],
        "tags": [],
    }
    (folder / "run.json").write_text(json.dumps(meta))
    beat = folder / "heartbeat"
    beat.touch()
    t = beat.stat().st_mtime - beat_age
    os.utime(beat, (t, t))
    return folder


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_crashed_rules_on_hand_made_runs(root: Path) -> None:
    from mmtop.store.ids import hostname

    _fake_run(root, "other-host-fresh", "elsewhere.example", 1, beat_age=0)
    _fake_run(root, "other-host-stale", "elsewhere.example", 1, beat_age=120)
    _fake_run(root, "here-alive-stale", hostname(), os.getpid(), beat_age=120)
    _fake_run(root, "here-alive-fresh", hostname(), os.getpid(), beat_age=0)
    dead = _dead_pid()
    _fake_run(root, "here-dead-fresh", hostname(), dead, beat_age=0)
    _fake_run(root, "here-dead-old", hostname(), dead, beat_age=10)

    def statuses(stale_after: float) -> dict[str, str]:
        df = store.open(root, stale_after=stale_after).runs()
        return dict(zip(df["run_id"], df["status"], strict=True))

    assert statuses(60) == {
        "other-host-fresh": "running",
        "other-host-stale": "crashed",
        "here-alive-stale": "crashed",
        "here-alive-fresh": "running",
        "here-dead-fresh": "running",  # a beat may be in flight: grace before calling it
        "here-dead-old": "crashed",  # dead pid on this host: no need to wait stale_after
    }
    assert statuses(3600)["other-host-stale"] == "running"


def test_resume_refuses_unknown_run_and_join_refuses_finished(root: Path) -> None:
    with store.Run(root=root, run_id="done-1") as run:
        run.log({"x": 1.0})
    with pytest.raises(ValueError, match="resume"):
        store.Run(root=root, run_id="done-1")
    with pytest.raises(ValueError):
        store.Run(root=root, run_id="never-was", resume=True)
    assert store.open(root).runs()["run_id"].to_list() == ["done-1"]


def test_resume_continues_steps_of_a_finished_run(root: Path) -> None:
    with store.Run(root=root, run_id="r-1", experiment="e") as run:
        for i in range(5):
            run.log({"x": float(i)})
    with store.Run(root=root, run_id="r-1", resume=True) as again:
        assert again.path == run.path
        again.log({"x": 5.0})
        again.log({"z": 1.0}, step=100)
    hist = store.open(root).history("r-1")
    assert _series(hist, "x") == ([0, 1, 2, 3, 4, 5], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert store.open(root).run("r-1").summary["x"]["count"] == 6


def test_resume_after_kill_between_part_and_summary_does_not_reuse_steps(root: Path) -> None:
    with store.Run(root=root, run_id="r-2", flush_every=600) as run:
        for i in range(5):
            run.log({"x": float(i)})
        run.flush()
        summary = next((run.path / "summary").glob("*.json"))
        stale = summary.read_bytes()  # the summary as it was after steps 0..4
        for i in range(5, 10):
            run.log({"x": float(i)})
    # Simulate a kill -9 right after the part with steps 5..9 was written.
    summary.write_bytes(stale)
    with store.Run(root=root, run_id="r-2", resume=True) as again:
        again.log({"x": 10.0})
    hist = store.open(root).history("r-2")
    assert _series(hist, "x")[0] == list(range(11))


def test_copy_of_a_run_folder_elsewhere_reads_back(root: Path, tmp_path: Path) -> None:
    """The store is plain files: an rsync'd copy reads the same."""
    with store.Run(root=root, experiment="e", params={"a": 1}) as run:
        run.log({"x": 0.25})
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    a = store.open(root).runs().drop("path")
    b = store.open(copy).runs().drop("path")
    assert a.equals(b)
    assert store.open(copy).history(run.run_id)["value"].to_list() == [0.25]


def test_sigterm_while_the_run_lock_is_held_ends_the_run_killed(
    spawn: Callable[..., Any], root: Path
) -> None:
    code = (
        "import sys\nfrom mmtop import store\n"
        "run = store.Run(root=sys.argv[1], run_id='busy', capture_system=False)\n"
        "print('ready', flush=True)\n"
        "i = 0\n"
        "while True:\n"
        "    run.log({'x': float(i)})\n"
        "    run.log_params({'i': i, 'blob': 'x' * 20000})  # holds the run lock often\n"
        "    i += 1\n"
    )
    for _attempt in range(3):
        proc = spawn(code, str(root / str(_attempt)))
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)  # hung before: flock waited for the process's own lock
        assert proc.returncode == -signal.SIGTERM
        info = store.open(root / str(_attempt)).run("busy")
        assert info.status == "killed"
