"""Liveness judged by a heartbeat's progress when the reader's clock and the one that set
the heartbeat's mtime disagree (another host, a file server)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.store import beats
from mmtop.tui.cli import main

RUN = "20270101T000000Z-aaaaaaaaaaaa"


def _foreign_run(root: Path, beat: float) -> Path:
    """A running run of another host, its heartbeat's mtime `beat`."""
    run = root / "exp" / RUN
    run.mkdir(parents=True)
    meta = {
        "schema_version": 1,
        "run_id": RUN,
        "experiment": "exp",
        "name": "far",
        "status": "running",
        "created": "2027-01-01T00:00:00+00:00",
        "ended": None,
        "host": "another-host.invalid",
        "pid": 1,
        "tags": [],
    }
    (run / "run.json").write_text(json.dumps(meta))
    (run / "heartbeat").touch()
    os.utime(run / "heartbeat", (beat, beat))
    return run


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _status(st: store.Store) -> str:
    return str(st.runs()["status"].to_list()[0])


def test_a_beat_that_moves_is_alive_though_its_clock_is_an_hour_behind(root: Path) -> None:
    hour_ago = time.time() - 3600
    run = _foreign_run(root, hour_ago)
    st = store.open(root, cache=False)
    clock = FakeClock()
    st._beats.clock = clock
    assert _status(st) == "crashed"  # first look: only the clocks to go by
    os.utime(run / "heartbeat", (hour_ago + 1, hour_ago + 1))
    clock.t += 1
    assert _status(st) == "running"  # it moved: alive, whatever the clocks say
    clock.t += 20
    assert _status(st) == "running"
    clock.t += 11  # 31 s of the reader's own time without a beat
    assert _status(st) == "crashed"
    assert st.run(RUN).status == "crashed"


def test_a_beat_that_stops_is_stale_though_its_clock_is_an_hour_ahead(root: Path) -> None:
    _foreign_run(root, time.time() + 3600)
    st = store.open(root, cache=False)
    clock = FakeClock()
    st._beats.clock = clock
    assert _status(st) == "running"
    clock.t += 29
    assert _status(st) == "running"
    clock.t += 2
    assert _status(st) == "crashed"


def test_a_beat_set_back_is_not_progress(root: Path) -> None:
    now = time.time()
    run = _foreign_run(root, now)
    st = store.open(root, cache=False)
    st._beats.clock = FakeClock()
    assert _status(st) == "running"
    os.utime(run / "heartbeat", (now - 3600, now - 3600))
    assert _status(st) == "crashed"


HOURS = 3 * 3600


def _server_clock(monkeypatch: pytest.MonkeyPatch, skew: float) -> list[Path]:
    """The store's file system stamps files with a clock `skew` seconds off ours, as a file
    server does: the reader's probe file gets that time (a real file, stamped here by hand).
    Returns the probe files made."""
    made: list[Path] = []
    real = beats._create_probe

    def stamped(folder: Path) -> Path:
        path = real(folder)
        os.utime(path, (time.time() + skew, time.time() + skew))
        made.append(path)
        return path

    monkeypatch.setattr(beats, "_create_probe", stamped)
    return made


def test_a_one_shot_reader_judges_a_fresh_beat_by_the_store_clock_hours_behind(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _foreign_run(root, time.time() - HOURS - 5)  # beat 5 s ago on a server 3 h behind
    probes = _server_clock(monkeypatch, -HOURS)
    assert _status(store.open(root)) == "running"
    assert _status(store.open(root, cache=False)) == "running"
    assert len(probes) == 2 and not any(p.exists() for p in probes)
    assert [p.name for p in (root / ".mmtop").iterdir() if p.name.startswith("clock-")] == []
    assert main(["ls", "--root", str(root), "--format", "csv"]) == 0  # what `mmtop ls` does
    out = capsys.readouterr().out
    assert ",running," in out, out


def test_a_one_shot_reader_judges_a_stale_beat_by_the_store_clock_hours_ahead(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _foreign_run(root, time.time() + HOURS - 120)  # 2 min old on a server 3 h ahead
    _server_clock(monkeypatch, HOURS)
    st = store.open(root, cache=False)
    assert _status(st) == "crashed"
    assert st.run(RUN).status == "crashed"


def test_the_store_clock_is_probed_once_per_open(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _foreign_run(root, time.time() - HOURS - 5)
    probes = _server_clock(monkeypatch, -HOURS)
    st = store.open(root, cache=False)
    for _ in range(3):
        assert _status(st) == "running"
    st.run(RUN)
    assert len(probes) == 1
    assert abs(st.store_time() - (time.time() - HOURS)) < 60


def test_a_store_that_cannot_be_written_is_judged_by_the_local_clock(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _foreign_run(root, time.time() - HOURS - 5)
    probes = _server_clock(monkeypatch, -HOURS)
    monkeypatch.setattr(store.Store, "read_only", property(lambda self: True))
    st = store.open(root)
    assert _status(st) == "crashed"  # no probe: the local clock says 3 h old
    assert probes == [] and not (root / ".mmtop").exists()


def _foreign_rank(root: Path, beat: float) -> Path:
    """A run shared by two writers, rank 0 running on another host, its heartbeat's mtime
    `beat`; rank 1 has not come yet."""
    run = _foreign_run(root, beat)
    meta = json.loads((run / "run.json").read_text())
    far = {"writer": "0000abcd", "rank": 0, "host": "another-host.invalid", "pid": 1}
    far.update(started="2027-01-01T00:00:00+00:00", ended=None, status="running", attempt=0)
    meta.update(world_size=2, writers=[far])
    (run / "run.json").write_text(json.dumps(meta))
    (run / "heartbeats").mkdir()
    (run / "heartbeats" / "0000abcd").touch()
    os.utime(run / "heartbeats" / "0000abcd", (beat, beat))
    return run


def _join(root: Path) -> dict[str, Any]:
    """Rank 1 joins with resume=True, which reopens the run only if a writer is gone."""
    with store.Run(
        root=root,
        run_id=RUN,
        world_size=2,
        rank=1,
        resume=True,
        capture_env=False,
        capture_code=False,
        capture_system=False,
        capture_console=False,
    ) as run:
        meta = dict(run.meta)
    return meta


def test_a_joining_writer_judges_a_fresh_beat_by_the_store_clock_hours_behind(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _foreign_rank(root, time.time() - HOURS - 5)  # beat 5 s ago on a server 3 h behind
    probes = _server_clock(monkeypatch, -HOURS)
    meta = _join(root)
    assert len(probes) == 1
    assert "resumed" not in meta  # rank 0 is alive: its attempt goes on
    assert [w["rank"] for w in meta["writers"]] == [0, 1]


def test_a_joining_writer_judges_a_stale_beat_by_the_store_clock_hours_ahead(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _foreign_rank(root, time.time() + HOURS - 120)  # 2 min old on a server 3 h ahead
    _server_clock(monkeypatch, HOURS)
    meta = _join(root)
    assert len(meta["resumed"]) == 1  # rank 0 is gone: a new attempt
