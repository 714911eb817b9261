"""Liveness judged by a heartbeat's progress when the reader's clock and the one that set
the heartbeat's mtime disagree (another host, a file server)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from mmtop import store

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
