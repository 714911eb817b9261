"""Tags of processes that join one run merge like their params; a string is one tag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mmtop import store

RUN_ID = "ddp-tags"
RANKS = 16

# Joins the run with its own tag and param, says so, and holds the run open until `go`
# exists, so that no rank ends the run before the last has joined.
JOIN = """
import sys, time
from pathlib import Path
root, rank, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
from mmtop import store
run = store.Run(run_id=sys.argv[4], root=root, tags=[f"rank{rank}", "ddp"],
                params={"ranks": {str(rank): rank}}, capture_env=False,
                capture_code=False, capture_system=False)
print("joined", flush=True)
deadline = time.monotonic() + 120
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.01)
run.finish()
"""


def test_sixteen_joining_processes_keep_every_tag(root: Path, tmp_path: Path, spawn: Any) -> None:
    go = tmp_path / "go"
    procs = [spawn(JOIN, str(root), str(r), str(go), RUN_ID) for r in range(RANKS)]
    for p in procs:
        assert p.stdout is not None
        assert p.stdout.readline() == "joined\n"
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    info = store.open(root, cache=False).run(RUN_ID)
    assert sorted(info.params["ranks"]) == sorted(str(r) for r in range(RANKS))
    assert sorted(info.tags) == sorted(["ddp", *(f"rank{r}" for r in range(RANKS))])


def test_joining_in_one_process_merges_tags_in_order(root: Path) -> None:
    opts: dict[str, Any] = dict(capture_env=False, capture_code=False, capture_system=False)
    first = store.Run(run_id=RUN_ID, root=root, tags=["a", "b"], **opts)
    second = store.Run(run_id=RUN_ID, root=root, tags=["b", "c", "c"], **opts)
    second.finish()
    first.finish()
    meta = json.loads((first.path / "run.json").read_text())
    assert meta["tags"] == ["a", "b", "c"]


def test_a_single_string_is_one_tag(root: Path) -> None:
    opts: dict[str, Any] = dict(capture_env=False, capture_code=False, capture_system=False)
    with store.Run(root=root, tags="abc", **opts) as run:
        pass
    assert store.open(root, cache=False).run(run.run_id).tags == ["abc"]
    joined = store.Run(run_id=RUN_ID, root=root, **opts)
    store.Run(run_id=RUN_ID, root=root, tags="xyz", **opts).finish()
    joined.finish()
    assert store.open(root, cache=False).run(RUN_ID).tags == ["xyz"]
