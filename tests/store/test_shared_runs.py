"""Shared runs: ranks that start late, fail or are killed; one true status at the end.

`REPEAT` (environment, default 1) repeats the eight-rank test; `benchmarks/bench_shared_runs.py`
runs it 20 times with the issue's 0-3 s start delays.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from rich.console import Console

from mmtop import store
from mmtop.store import shared
from mmtop.store.ids import hostname
from mmtop.tui.cli.commands import show
from mmtop.tui.run_extras import console_tail, gather
from mmtop.tui.safe_text import clean
from mmtop.tui.widgets.overview import OverviewPane

RUN_ID = "ddp-shared"
KEYS = ("loss", "acc", "lr", "grad")

# One rank of a DDP job, as torchrun starts it: WORLD_SIZE and RANK in the environment.
# argv: root, steps, delay before starting, mode, run id. Modes: "wait" for rank 0's end and
# a go file, "raise" after logging, "hang" alive after a flush (to be killed), "-" none.
RANK = """
import json, os, sys, time
from pathlib import Path
root, steps, delay, mode = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
run_id = sys.argv[5]
rank = int(os.environ["RANK"])
time.sleep(delay)  # a launcher's uneven start
if mode == "wait":
    # Start only once rank 0 has ended, and the test has looked at the run.
    deadline = time.monotonic() + 120
    def rank0_ended():
        try:
            meta = json.loads(next(root.glob(f"*/{run_id}/run.json")).read_text())
        except (StopIteration, OSError, ValueError):
            return False
        return any(w.get("rank") == 0 and w.get("ended") for w in meta.get("writers", []))
    while not (rank0_ended() and (root / "go").exists()):
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for rank 0")
        time.sleep(0.01)
from mmtop import store
run = store.Run(experiment="ddp", run_id=run_id, root=root, flush_every=0.1,
                capture_env=False, capture_code=False, capture_system=False)
print("joined", flush=True)
with run:
    for step in range(steps):
        base = rank * 1_000_000 + step
        run.log({"loss": base, "acc": base + 0.25, "lr": base + 0.5, "grad": base + 0.75},
                step=step)
    if mode == "raise":
        raise RuntimeError(f"boom on rank {rank}")
    if mode == "hang":
        run.flush()
        print("flushed", flush=True)
        time.sleep(600)
"""


def _start(
    spawn: Any, root: Path, world: int, rank: int, steps: int, delay: float, mode: str = "-"
) -> subprocess.Popen[str]:
    env = {"WORLD_SIZE": str(world), "RANK": str(rank), "LOCAL_RANK": str(rank)}
    proc: subprocess.Popen[str] = spawn(
        RANK, str(root), str(steps), f"{delay:.3f}", mode, RUN_ID, env=env
    )
    return proc


def _meta(root: Path) -> dict[str, Any]:
    found = list(root.glob(f"*/{RUN_ID}/run.json"))
    return json.loads(found[0].read_text()) if found else {}


def _ended(root: Path) -> int:
    return sum(1 for w in _meta(root).get("writers", []) if w.get("ended"))


def _points(root: Path) -> pl.DataFrame:
    return store.open(root, cache=False).history(RUN_ID)


def _check_points(points: pl.DataFrame, ranks: list[int], steps: int) -> None:
    """Each rank's steps 0..steps-1 for every key, exactly once, with its own values."""
    assert points.height == len(ranks) * steps * len(KEYS)
    assert points.select("key", "value").n_unique() == points.height
    expected = sorted(
        r * 1_000_000 + s + 0.25 * i for r in ranks for s in range(steps) for i in range(len(KEYS))
    )
    assert sorted(points["value"].to_list()) == expected


def eight_ranks(root: Path, spawn: Any, wait_until: Any, max_delay: float, seed: int) -> None:
    """8 ranks, random start delays; rank 7 starts only after rank 0 has finished."""
    rng = random.Random(seed)
    world, steps = 8, 3000
    procs = [_start(spawn, root, world, r, steps, rng.uniform(0, max_delay)) for r in range(7)]
    procs.append(_start(spawn, root, world, 7, steps, 0.0, "wait"))
    wait_until(lambda: _ended(root) == 7 or any(p.poll() for p in procs[:7]), 180, "7 ranks end")
    for p in procs[:7]:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    # Seven of eight writers ended: the run is still running, for readers and in run.json.
    assert _meta(root)["status"] == "running"
    assert store.open(root, cache=False).run(RUN_ID).status == "running"
    (root / "go").touch()
    out, err = procs[7].communicate(timeout=120)
    assert procs[7].returncode == 0, err  # joined a run whose other ranks had all finished
    info = store.open(root, cache=False).run(RUN_ID)
    assert info.status == "finished"
    assert sorted(w["rank"] for w in info.writers) == list(range(8))
    assert {w["status"] for w in info.writers} == {"finished"}
    assert {w["last_step"] for w in info.writers} == {steps - 1}
    _check_points(_points(root), list(range(8)), steps)


@pytest.mark.parametrize("rep", range(int(os.environ.get("REPEAT", "1"))))
def test_eight_ranks_with_a_late_joiner_end_finished(
    tmp_path: Path, spawn: Any, wait_until: Any, rep: int
) -> None:
    eight_ranks(tmp_path / f"mmruns{rep}", spawn, wait_until, max_delay=0.5, seed=rep)


def test_a_rank_that_raises_fails_the_run_with_its_error(
    root: Path, spawn: Any, wait_until: Any
) -> None:
    procs = [_start(spawn, root, 3, r, 200, 0.0, "raise" if r == 1 else "-") for r in range(3)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 1, 0], [err for _, err in results]
    info = store.open(root, cache=False).run(RUN_ID)
    assert info.status == "failed"
    assert info.error is not None
    assert (info.error["type"], info.error["message"], info.error["rank"]) == (
        "RuntimeError",
        "boom on rank 1",
        1,
    )
    assert [w["status"] for w in sorted(info.writers, key=lambda w: w["rank"])] == [
        "finished",
        "failed",
        "finished",
    ]
    _check_points(_points(root), [0, 1, 2], 200)  # the failed rank's points are kept


def test_a_killed_rank_makes_the_run_crashed_and_keeps_the_others_points(
    root: Path, spawn: Any, wait_until: Any
) -> None:
    victim = _start(spawn, root, 3, 1, 500, 0.0, "hang")
    assert victim.stdout is not None
    assert victim.stdout.readline() == "joined\n"
    assert victim.stdout.readline() == "flushed\n"
    others = [_start(spawn, root, 3, r, 500, 0.0) for r in (0, 2)]
    for p in others:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    # Rank 1 still beats: two of three ended, so the run is running.
    assert store.open(root, stale_after=30).run(RUN_ID).status == "running"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    st = store.open(root, stale_after=1.0, cache=False)
    wait_until(lambda: st.run(RUN_ID).status == "crashed", 20, "the run reads crashed")
    assert st.runs()["status"].to_list() == ["crashed"]
    assert _meta(root)["status"] == "running"  # never written: crashed is a reading
    rows = {w["rank"]: w["status"] for w in st.run(RUN_ID).writers}
    assert rows == {0: "finished", 1: "crashed", 2: "finished"}
    _check_points(_points(root), [0, 1, 2], 500)  # rank 1 flushed all of its points


def test_torch_distributed_gloo_ranks_share_one_run(root: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    script = tmp_path / "train.py"
    script.write_text(
        "import sys, torch, torch.distributed as dist\n"
        "from mmtop import store\n"
        "dist.init_process_group('gloo')\n"
        "rank = dist.get_rank()\n"
        f"with store.Run(run_id='{RUN_ID}', root=sys.argv[1], tags=[f'rank{{rank}}'],\n"
        "               capture_system=False, capture_code=False, flush_every=0.1) as run:\n"
        "    for step in range(50):\n"
        "        t = torch.tensor([float(rank + 1)])\n"
        "        dist.all_reduce(t)\n"
        "        run.log({f'rank{rank}/sum': t.item()}, step=step)\n"
        "dist.barrier()\n"
        "dist.destroy_process_group()\n"
    )
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    done = subprocess.run(
        [*cmd, str(script), str(root)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    info = store.open(root, cache=False).run(RUN_ID)
    assert (info.status, info.world_size) == ("finished", 2)
    assert sorted(w["rank"] for w in info.writers) == [0, 1]
    assert sorted(info.tags) == ["rank0", "rank1"]
    points = store.open(root, cache=False).history(RUN_ID)
    assert points.group_by("key").len().sort("key").rows() == [("rank0/sum", 50), ("rank1/sum", 50)]
    assert set(points["value"].to_list()) == {3.0}


# ----------------------------------------------------------------- in one process


def _run(root: Path, **kw: Any) -> store.Run:
    kw.setdefault("run_id", RUN_ID)
    opts: dict[str, Any] = dict(capture_env=False, capture_code=False, capture_system=False)
    return store.Run(root=root, **opts, **kw)


def test_status_is_the_worst_ending_once_all_expected_writers_ended(root: Path) -> None:
    a, b, c = (_run(root, world_size=3, rank=r) for r in range(3))
    a.finish("killed", {"type": "SIGTERM", "message": "terminated", "traceback": ""})
    assert store.open(root, cache=False).run(RUN_ID).status == "running"
    b.finish()
    c.finish()
    info = store.open(root, cache=False).run(RUN_ID)
    assert (info.status, info.error and info.error["rank"]) == ("killed", 0)


def test_a_writer_that_joins_after_all_ended_needs_resume(root: Path) -> None:
    for rank in range(2):
        _run(root, world_size=2, rank=rank).finish()
    with pytest.raises(ValueError) as refused:
        _run(root, world_size=2, rank=0)
    assert str(refused.value) == (
        f"run {RUN_ID} is finished: all 2 writers it expects (world_size=2) have ended; "
        "pass resume=True to continue it"
    )
    again = [_run(root, world_size=2, rank=r, resume=True) for r in range(2)]
    meta = _meta(root)
    assert (meta["status"], len(meta["resumed"])) == ("running", 1)  # one reopening, not two
    again[0].finish()
    assert _meta(root)["status"] == "running"
    again[1].finish()
    assert _meta(root)["status"] == "finished"


def test_without_a_world_size_the_first_to_finish_ends_the_run(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "SLURM_STEP_ID"):
        monkeypatch.delenv(name, raising=False)
    a, b = _run(root), _run(root)
    a.finish()
    assert _meta(root)["status"] == "finished"
    b.finish()
    with pytest.raises(ValueError, match=r"pass resume=True .* world_size=N"):
        _run(root)
    assert "world_size" not in _meta(root)
    assert not (root / "default" / RUN_ID / "heartbeats").exists()


def test_world_size_one_is_a_run_of_one(root: Path) -> None:
    _run(root, world_size=1).finish()
    meta = _meta(root)
    assert meta["status"] == "finished" and "world_size" not in meta
    assert [w["status"] for w in meta["writers"]] == ["finished"]


def test_a_conflicting_world_size_is_refused(root: Path) -> None:
    first = _run(root, world_size=4, rank=0)
    with pytest.raises(ValueError, match=r"shared by world_size=4 .* world_size=2$"):
        _run(root, world_size=2, rank=1)
    first.finish()


def test_a_run_started_before_the_launcher_set_world_size_becomes_shared(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "SLURM_STEP_ID"):
        monkeypatch.delenv(name, raising=False)
    first = _run(root)  # rank 0, before the launcher started the others
    second = _run(root, world_size=2, rank=1)
    first.finish()
    st = store.open(root, cache=False)
    assert (_meta(root)["world_size"], st.run(RUN_ID).status) == (2, "running")
    second.finish()
    assert st.run(RUN_ID).status == "finished"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"world_size": 0}, "world_size must be an integer >= 1, got 0"),
        ({"world_size": True}, "world_size must be an integer >= 1, got True"),
        ({"world_size": 2, "rank": 2}, "rank 2 is out of range for world_size=2"),
        ({"world_size": 2, "run_id": None}, "world_size=2 needs run_id=..."),
    ],
)
def test_bad_world_sizes_are_refused_before_anything_is_written(
    root: Path, kw: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        _run(root, **kw)
    assert not root.exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WORLD_SIZE": "8", "RANK": "3", "LOCAL_RANK": "1"}, (8, 3, 1)),
        ({"WORLD_SIZE": "4", "LOCAL_RANK": "2"}, (4, 2, 2)),  # one node, no RANK
        ({"WORLD_SIZE": "4", "LOCAL_RANK": "2", "NODE_RANK": "1"}, (4, None, 2)),
        ({"SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "4", "SLURM_PROCID": "2"}, (4, 2, None)),
        ({"SLURM_NTASKS": "4", "SLURM_PROCID": "0"}, (None, None, None)),  # a batch script
        ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "8"}, (None, None, None)),
        ({}, (None, None, None)),
    ],
)
def test_launcher_environment(env: dict[str, str], expected: tuple[Any, ...]) -> None:
    got = shared.from_env(env)
    assert (got.world_size, got.rank, got.local_rank) == expected


def test_a_malformed_world_size_variable_is_named() -> None:
    with pytest.raises(ValueError, match=r"^environment variable WORLD_SIZE='eight' is not"):
        shared.from_env({"WORLD_SIZE": "eight"})


def test_the_environment_counts_only_for_an_explicit_run_id(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "8")
    monkeypatch.setenv("RANK", "0")
    own = store.Run(root=root, capture_env=False, capture_code=False, capture_system=False)
    own.finish()
    assert store.open(root, cache=False).run(own.run_id).status == "finished"
    joined = _run(root)
    assert (joined.world_size, joined.rank) == (8, 0)
    joined.finish()
    assert _meta(root)["status"] == "running"


def test_system_metrics_and_console_are_per_rank(root: Path, wait_until: Any) -> None:
    opts: dict[str, Any] = dict(capture_env=False, capture_code=False)
    one = store.Run(root=root, run_id=RUN_ID, world_size=2, rank=1, capture_console=True,
                    system_every=0.02, flush_every=0.05, **opts)  # fmt: skip
    zero = store.Run(root=root, run_id=RUN_ID, world_size=2, rank=0, capture_console=True,
                     capture_system=False, **opts)  # fmt: skip
    print("hello from both ranks")
    wait_until(lambda: list((one.path / "system").glob("*.parquet")), 20, "a system part")
    one.finish()
    zero.finish()
    keys = set(store.open(root, cache=False).history(RUN_ID, system=True)["key"].to_list())
    assert keys and all(k.startswith("sys/rank1/") for k in keys)
    assert "sys/rank1/proc_rss_mb" in keys
    peak = store.open(root, cache=False).runs()["peak_rss_mb"].to_list()
    assert len(peak) == 1 and peak[0] > 0
    assert (one.path / "console.rank1.log").read_text() == "hello from both ranks\n"
    assert (one.path / "console.log").read_text() == "hello from both ranks\n"
    info = store.open(root, cache=False).run(RUN_ID)
    assert info.console_tail(rank=1) == "hello from both ranks"
    hello = "hello from both ranks"
    assert console_tail(info) == (["── rank 0 ──", hello, "── rank 1 ──", hello], None)


def test_show_lists_each_writer_with_host_text_made_inert(root: Path) -> None:
    a, b = (_run(root, world_size=2, rank=r) for r in range(2))
    a.log({"loss": 1.0}, step=41)
    a.finish()
    run_json = a.path / "run.json"
    meta = json.loads(run_json.read_text())
    meta["writers"][0]["host"] = "evil\x1b[2Jhost"
    run_json.write_text(json.dumps(meta))
    info = store.open(root, cache=False).run(RUN_ID)
    assert info.status == "running"
    text = show.as_text(info, _no_extras(info))
    block = text.split("writers (2 of world_size 2)\n", 1)[1].split("\n\n", 1)[0]
    lines = [line.split() for line in block.splitlines()]
    assert lines[0] == ["rank", "host", "pid", "status", "last", "step", "writer"]
    evil = clean("evil\x1b[2Jhost", single_line=True)
    assert lines[1][:5] == ["0", evil, str(os.getpid()), "finished", "41"]
    assert lines[2][:4] == ["1", hostname(), str(os.getpid()), "running"]
    assert "\x1b" not in text
    shown = show.as_json(info, _no_extras(info))
    assert (shown["world_size"], [w["rank"] for w in shown["writers"]]) == (2, [0, 1])
    pane = Console(width=100, record=True, file=io.StringIO(), color_system=None)
    pane.print(OverviewPane().describe(info, gather(info)))
    drawn = pane.export_text()
    assert "writers (2 of world_size 2)" in drawn
    rows = [line.split() for line in drawn.splitlines() if "evil" in line or "▶" in line]
    assert rows[0][:5] == ["0", evil, str(os.getpid()), "✓", "finished"]
    assert rows[0][-1] == "41"
    assert "\x1b" not in drawn
    b.finish()


def _no_extras(info: Any) -> Any:
    from mmtop.tui.cli.runfiles import read_extras

    return read_extras(info)


def test_resume_after_a_crashed_rank_starts_a_new_attempt(root: Path, spawn: Any) -> None:
    done = _run(root, world_size=2, rank=0)
    done.finish()
    # Rank 1 dies without ending: os._exit skips every exit hook, as kill -9 would.
    code = (
        "import os, sys\nfrom mmtop import store\n"
        "store.Run(run_id=sys.argv[2], root=sys.argv[1], world_size=2, rank=1,\n"
        "          capture_env=False, capture_code=False, capture_system=False)\n"
        "os._exit(0)\n"
    )
    dead = spawn(code, str(root), RUN_ID)
    assert dead.wait(timeout=60) == 0
    folder = done.path
    past = time.time() - 10  # past the grace a dead same-host process gets
    for beat in [folder / "heartbeat", *(folder / "heartbeats").iterdir()]:
        os.utime(beat, (past, past))
    assert store.open(root, cache=False).run(RUN_ID).status == "crashed"
    again = [_run(root, world_size=2, rank=r, resume=True) for r in range(2)]
    meta = _meta(root)
    assert (meta["status"], len(meta["resumed"])) == ("running", 1)
    assert [w["attempt"] for w in meta["writers"]] == [0, 0, 1, 1]
    assert store.open(root, cache=False).run(RUN_ID).status == "running"
    for run in again:
        run.finish()
    info = store.open(root, cache=False).run(RUN_ID)
    assert info.status == "finished"
    assert [w["status"] for w in info.writers] == ["finished", "crashed", "finished", "finished"]


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
