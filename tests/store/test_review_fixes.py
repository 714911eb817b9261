"""Regressions: big parts between small ones, SIGTERM while a lock is held, several writers
ending one run, params of a run joined by a second process."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from mmtop import store
from mmtop.store.parts import SMALL_PART_ROWS


def test_a_big_flush_between_small_ones_stays_readable(root: Path) -> None:
    run = store.Run(root=root, flush_every=600, capture_system=False)
    run.log({"slow": 0.0}, step=0)
    run.flush()
    calls = SMALL_PART_ROWS // 10 + 1  # one flush of more than SMALL_PART_ROWS points
    keys = [f"k{i}" for i in range(10)]
    for step in range(1, calls + 1):
        run.log(dict.fromkeys(keys, float(step)), step=step)
    run.flush()
    for step in range(calls + 1, calls + 4):
        run.log({"slow": float(step)}, step=step)
        run.flush()
    run.finish()
    history = store.open(root).history(run.run_id)
    assert history.height == 1 + calls * 10 + 3
    assert history.filter(key="k3")["step"].to_list() == list(range(1, calls + 1))
    assert history.filter(key="slow")["value"].to_list() == [
        0.0,
        *map(float, range(calls + 1, calls + 4)),
    ]


def test_sigterm_while_the_run_lock_is_held_ends_the_run_killed(spawn, root: Path) -> None:
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


def test_a_rank_finishing_after_another_failed_keeps_the_failure(root: Path) -> None:
    first = store.Run(root=root, run_id="ddp", capture_system=False)
    second = store.Run(root=root, run_id="ddp", capture_system=False)
    first.finish("failed", {"type": "RuntimeError", "message": "NCCL timeout", "traceback": ""})
    second.finish("finished")
    info = store.open(root).run("ddp")
    assert info.status == "failed"
    assert info.error is not None and info.error["message"] == "NCCL timeout"
    assert info.ended is not None


def test_joining_a_run_merges_params_instead_of_replacing_them(root: Path) -> None:
    first = store.Run(root=root, run_id="shared", params={"lr": 0.1}, capture_system=False)
    first.log_params({"extra": 1})
    second = store.Run(root=root, run_id="shared", params={"rank": 1}, capture_system=False)
    second.finish()
    first.finish()
    params = json.loads((first.path / "params.json").read_text())
    assert params == {"lr": 0.1, "extra": 1, "rank": 1}
