"""Many processes registering and promoting at once; a registration killed half-way."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmtop import store

REGISTER = """
import os, sys, time
from pathlib import Path
from mmtop import store
root, go, i = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
weights = root.parent / f"w{i}.bin"
weights.write_bytes(i.encode() * 1000)
while not go.exists():
    time.sleep(0.005)
v = store.open(root).register_model("shared", path=weights)
print(v.version)
"""

MOVE = """
import sys, time
from pathlib import Path
from mmtop import store
root, go, version = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
s = store.open(root)
while not go.exists():
    time.sleep(0.005)
print(s.set_alias("shared", "champion", version)["seq"])
"""

BLOCKED = """
import sys, time
from pathlib import Path
from mmtop import store

class Slow:
    def __reduce__(self):
        Path(sys.argv[2]).write_text("serializing")
        time.sleep(600)
        return (dict, ())

store.open(sys.argv[1]).register_model("slow", Slow(), allow_pickle=True)
"""


def _setup(root: Path, tmp_path: Path) -> Path:
    weights = tmp_path / "seed.bin"
    weights.write_bytes(b"seed")
    with store.Run("e", root=root, capture_system=False, capture_code=False):
        pass
    return tmp_path / "go"


def _finish(procs: list[subprocess.Popen[str]]) -> list[str]:
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outs.append(out.strip())
    return outs


def test_eight_processes_registering_at_once_get_one_to_eight(
    root: Path, tmp_path: Path, spawn: Callable[..., Any]
) -> None:
    go = _setup(root, tmp_path)
    procs = [spawn(REGISTER, str(root), str(go), str(i)) for i in range(8)]
    go.write_text("go")
    numbers = sorted(int(n) for n in _finish(procs))
    assert numbers == list(range(1, 9))
    s = store.open(root)
    assert s.models()["version"].to_list() == list(range(1, 9))
    registered = s.model_history("shared").filter(action="registered")
    assert sorted(registered["version"].to_list()) == list(range(1, 9))
    assert s.problems() == []


def test_eight_processes_moving_one_alias_keep_every_move_in_order(
    root: Path, tmp_path: Path, spawn: Callable[..., Any]
) -> None:
    go = _setup(root, tmp_path)
    s = store.open(root)
    for i in range(8):
        (tmp_path / f"v{i}.bin").write_bytes(bytes([i]))
        s.register_model("shared", path=tmp_path / f"v{i}.bin")
    procs = [spawn(MOVE, str(root), str(go), str(v)) for v in range(1, 9)]
    go.write_text("go")
    seqs = sorted(int(n) for n in _finish(procs))
    assert seqs == list(range(9, 17))  # after the 8 registrations, each move its own number
    moves = store.open(root).model_history("shared").filter(action="alias")
    assert moves.height == 8
    assert sorted(moves["to"].to_list()) == [str(v) for v in range(1, 9)]
    # Each move replaced exactly the state the one before left behind.
    assert moves["from"].to_list() == [None, *moves["to"].to_list()[:-1]]
    last = int(moves["to"].to_list()[-1])
    assert store.open(root).model("shared@champion").version == last


def test_kill_9_during_registration_leaves_no_visible_version(
    root: Path, tmp_path: Path, spawn: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    from mmtop.tui.cli import main

    _setup(root, tmp_path)
    marker = tmp_path / "serializing"
    proc = spawn(BLOCKED, str(root), str(marker))
    wait_until(lambda: marker.exists() or proc.poll() is not None, what="serializing")
    assert proc.poll() is None, proc.communicate()[1]
    folder = root / "_models" / "slow" / "versions" / "1"
    assert folder.is_dir() and json.loads((folder / ".claim.json").read_text())["pid"] == proc.pid
    # Alive: in progress, not a problem, and compaction leaves it alone.
    s = store.open(root)
    assert s.models().height == 0 and s.problems() == []
    store.compact(root)
    assert folder.is_dir()

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    s = store.open(root)
    assert s.models().height == 0
    with_problem = [p for p in s.problems() if p.path == str(folder)]
    assert len(with_problem) == 1
    assert "registration interrupted" in with_problem[0].reason
    assert main(["doctor", "--root", str(root)]) == 1
    report = store.compact(root)
    assert report.model_versions_removed == [str(folder)]
    assert not folder.exists()
    assert main(["doctor", "--root", str(root)]) == 0
    (tmp_path / "w.bin").write_bytes(b"w")
    assert store.open(root).register_model("slow", path=tmp_path / "w.bin").version == 1
