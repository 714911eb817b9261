"""Eight processes at once: one shared run (DDP ranks) and one run each. Nothing lost, nothing
duplicated, the shared run created exactly once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mmtop import store

WRITERS = 8
STEPS = 2000
SHARED_ID = "20261127T000000Z-shared"

RANK = """
import json, os, sys, time
from pathlib import Path
root, rank, gate, steps, writers = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])
from mmtop import store

def wait_for(paths):
    deadline = time.monotonic() + 60
    while not all(p.exists() for p in paths):
        if time.monotonic() > deadline:
            sys.exit("barrier timed out")
        time.sleep(0.002)

(gate / f"ready{rank}").touch()
wait_for([gate / "go"])
# Every rank creates or joins the same run at the same moment.
shared = store.Run(experiment="ddp", run_id=sys.argv[6], root=root, flush_every=0.05)
created = shared.meta["pid"] == os.getpid()
(gate / f"joined{rank}").touch()
own = store.Run(experiment="solo", name=f"rank{rank}", root=root, flush_every=0.05)
for step in range(steps):
    shared.log({f"rank{rank}/x": rank * 100000 + step, f"rank{rank}/y": step / 3}, step=step)
    own.log({"x": step * 0.25 + rank})
wait_for([gate / f"joined{r}" for r in range(writers)])  # ranks finish after all joined
own.finish()
shared.finish()
print(json.dumps({"created": created, "own": own.run_id, "writer": shared.writer_id}))
"""


@pytest.fixture(scope="module")
def eight_writers(
    tmp_path_factory: pytest.TempPathFactory, module_spawn: Callable[..., Any]
) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("eight")
    root, gate = base / "mmruns", base / "gate"
    gate.mkdir()
    procs = [
        module_spawn(
            RANK, str(root), str(r), str(gate), str(STEPS), str(WRITERS), SHARED_ID, cwd=base
        )
        for r in range(WRITERS)
    ]
    deadline = time.monotonic() + 90
    while not all((gate / f"ready{r}").exists() for r in range(WRITERS)):
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        assert time.monotonic() < deadline, "writers never got ready"
        time.sleep(0.02)
    (gate / "go").touch()
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return {"root": root, "reports": reports}


def test_shared_run_created_once_and_holds_every_point_once(eight_writers: Any) -> None:
    root: Path = eight_writers["root"]
    reports = eight_writers["reports"]
    assert sum(r["created"] for r in reports) == 1
    assert len({r["writer"] for r in reports}) == WRITERS
    assert [p.name for p in (root / "ddp").iterdir()] == [SHARED_ID]
    folder = root / "ddp" / SHARED_ID
    assert len(list(folder.glob("run.json"))) == 1
    assert not list(root.rglob("*.tmp"))

    s = store.open(root)
    hist = s.history(SHARED_ID)
    assert hist.height == WRITERS * STEPS * 2
    assert hist.select("key", "step").is_duplicated().sum() == 0
    for rank in range(WRITERS):
        x = hist.filter(pl.col("key") == f"rank{rank}/x").sort("step")
        assert x["step"].to_list() == list(range(STEPS))
        assert x["value"].to_list() == [float(rank * 100000 + i) for i in range(STEPS)]
        y = hist.filter(pl.col("key") == f"rank{rank}/y").sort("step")
        assert y["value"].to_list() == [i / 3 for i in range(STEPS)]

    info = s.run(SHARED_ID)
    assert info.status == "finished"
    assert len(list((folder / "summary").glob("*.json"))) == WRITERS
    for rank in range(WRITERS):
        st = info.summary[f"rank{rank}/x"]
        assert st["count"] == STEPS and st["last_step"] == STEPS - 1
        assert st["min"] == rank * 100000 and st["max"] == rank * 100000 + STEPS - 1
    assert s.problems() == []


def test_eight_processes_write_eight_runs(eight_writers: Any) -> None:
    root: Path = eight_writers["root"]
    own = sorted(r["own"] for r in eight_writers["reports"])
    assert len(set(own)) == WRITERS
    s = store.open(root)
    solo = s.runs(where="experiment = 'solo'").sort("name")
    assert solo["run_id"].sort().to_list() == own
    assert solo["name"].to_list() == [f"rank{r}" for r in range(WRITERS)]
    assert solo["status"].to_list() == ["finished"] * WRITERS
    assert solo["last_step"].to_list() == [STEPS - 1] * WRITERS
    hist = s.history(own)
    assert hist.height == WRITERS * STEPS
    assert hist.select("run_id", "step").is_duplicated().sum() == 0
    for rank, run_id in zip(solo["name"], solo["run_id"], strict=True):
        r = int(rank.removeprefix("rank"))
        values = hist.filter(pl.col("run_id") == run_id).sort("step")["value"].to_list()
        assert values == [i * 0.25 + r for i in range(STEPS)]
    assert s.runs().height == WRITERS + 1
