"""How a writer's points reach the disk, and what happens when the disk refuses them.

A flush converts the buffered calls into batches and writes the batches as parts, then the
writer's summary file. A failed write (a full disk, a quota) loses nothing: the batches stay
in memory (bounded, see stream.MAX_PENDING_POINTS) and the background thread retries with
backoff; `finish` retries a full disk for a while, then ends the run `failed` with the error.
"""

from __future__ import annotations

import errno
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import paths, stream
from .errors import StoreWriteError, first_line
from .fsio import update_json, update_json_in_place, write_json_atomic
from .stream import PointStream

# After a failed write the background thread waits flush_every, then twice as long each
# time, up to MAX_BACKOFF; `finish` keeps retrying a full disk for FINISH_WAIT seconds.
MAX_BACKOFF = 30.0
FINISH_WAIT = 10.0
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class Flusher:
    """The metrics and system streams of one writer, and the state of its retries."""

    def __init__(
        self, run_id: str, path: Path, writer_id: str, summary: dict[str, float], every: float
    ) -> None:
        self.run_id = run_id
        self.path = path
        self.writer_id = writer_id
        self.summary = summary  # the run's explicit summary values, written with each flush
        self.every = every
        self.metrics = PointStream(path / paths.METRICS_DIR, writer_id)
        self.system = PointStream(path / paths.SYSTEM_DIR, writer_id)
        self.lock = threading.RLock()
        self.last_flush = time.monotonic()
        self._retry_at = 0.0  # no background write before this (monotonic) time
        self._backoff = 0.0
        self._failing = False
        self._warned_drop = False
        self._summary_dirty = False

    def flush(self) -> None:
        """Write everything now; raises when a write fails, keeping the unwritten points."""
        with self.lock:
            self.last_flush = time.monotonic()
            self._collect()
            self._write_pending()
            self._recovered()

    def background_flush(self, now: float) -> None:
        """Converts the buffers every time (memory stays compact) and writes unless backing
        off after a failure; training never sees an exception from here."""
        with self.lock:
            self.last_flush = now
            try:
                self._collect()
                if now < self._retry_at:
                    return
                self._write_pending()
            except Exception as exc:  # noqa: BLE001 - retried with backoff; training goes on
                self._backoff = min(max(2 * self._backoff, self.every), MAX_BACKOFF)
                self._retry_at = time.monotonic() + self._backoff
                if not self._failing:
                    self._failing = True
                    print(
                        f"mmtop store: writing run {self.run_id} failed ({first_line(exc)}); "
                        "its points stay in memory and writes are retried",
                        file=sys.stderr,
                    )
                return
            self._recovered()

    def flush_final(self) -> None:
        """`flush`, retrying a full disk (with backoff) for up to FINISH_WAIT seconds, then
        tidying up: compaction and the summary."""
        deadline = time.monotonic() + FINISH_WAIT
        delay = 0.05
        while True:
            try:
                self.flush()
                break
            except OSError as exc:
                if exc.errno not in DISK_FULL or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(2 * delay, 1.0)
        # Compaction only tidies: on a full disk the small parts stay as they are, all valid.
        self.metrics.parts.try_compact()
        self.system.parts.try_compact()
        self.write_summary()

    def error(self, exc: BaseException) -> StoreWriteError:
        """The error `finish` reports when the last flush failed with `exc`."""
        unwritten = 0
        for points in (self.metrics, self.system):
            unwritten += points.pending_points + sum(len(c[3]) for c in points.buffer.calls)
        plural = "s" if unwritten != 1 else ""
        what = f"{unwritten:,} point{plural}" if unwritten else "its summary"
        return StoreWriteError(
            f"run {self.run_id}: {what} could not be written to {self.path}: {first_line(exc)}",
            getattr(exc, "errno", None),
        )

    def write_summary(self) -> None:
        data: dict[str, Any] = {
            "writer": self.writer_id,
            "updated": time.time(),
            "metrics": {k: v.to_json() for k, v in self.metrics.stats.items()},
            "values": dict(self.summary),
            "system": {k: v.to_json() for k, v in self.system.stats.items()},
        }
        dropped = self.metrics.dropped + self.system.dropped
        if dropped:
            data["dropped"] = dropped
        folder = self.path / paths.SUMMARY_DIR
        folder.mkdir(exist_ok=True)
        write_json_atomic(paths.summary_file(self.path, self.writer_id), data)

    def _collect(self) -> None:
        dropped = self.metrics.collect() + self.system.collect()
        if not dropped:
            return
        self._summary_dirty = True  # the summary counts what was discarded
        if not self._warned_drop:
            self._warned_drop = True
            print(
                f"mmtop store: run {self.run_id}: writes keep failing and more than "
                f"{stream.MAX_PENDING_POINTS:,} points wait in memory; the oldest unwritten "
                "points are discarded from now on (counted as 'dropped' in the summary)",
                file=sys.stderr,
            )

    def _write_pending(self) -> None:
        wrote = self.metrics.write()
        wrote = self.system.write() or wrote
        if wrote or self.summary or self._summary_dirty:
            self._summary_dirty = True  # until it is on disk: a later flush retries it
            self.write_summary()
            self._summary_dirty = False

    def _recovered(self) -> None:
        if self._failing:
            print(f"mmtop store: run {self.run_id}: writing works again", file=sys.stderr)
        self._failing = False
        self._backoff = self._retry_at = 0.0


def record_end(run_json: Path, close: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Apply `close` (the final status) to run.json; in place when the disk is full, since a
    run left `running` would read as crashed."""
    try:
        result = update_json(run_json, close)
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            raise
        result = update_json_in_place(run_json, close)
    return dict(result)
