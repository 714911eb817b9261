"""Judging a heartbeat by its progress, not by whose clock is right.

A heartbeat's mtime is set by the clock of the machine that stores the file: the writer's
own, or on a shared disk the file server's. Comparing it with the reader's clock is only
right when the clocks agree. A reader that looks more than once (the app, polling) can do
better: a heartbeat that moved forward while it watched is alive, whatever the clocks say, and one
that did not move for `stale_after` seconds of the reader's own monotonic clock is stale,
however fresh its mtime looks. Until it has seen a heartbeat twice, the reader goes by the
heartbeat's age on the store's own clock (`StoreClock`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class _Seen:
    mtime: float
    since: float  # reader's monotonic time when this mtime was first seen
    moved: bool  # the mtime changed at least once while this reader watched


class BeatWatch:
    def __init__(self, stale_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stale_after = stale_after
        self.clock = clock
        self._seen: dict[str, _Seen] = {}

    def stale(self, key: str, mtime: float, now: float) -> bool:
        """True if the heartbeat `key` (its mtime, 0 when missing) shows no live writer."""
        by_clock = now - mtime > self.stale_after
        if not mtime:
            return True
        t = self.clock()
        seen = self._seen.get(key)
        if seen is None:
            self._seen[key] = _Seen(mtime, t, False)
            return by_clock
        if mtime > seen.mtime:
            self._seen[key] = _Seen(mtime, t, True)
            return False
        if mtime < seen.mtime:  # set back (copied, restored): no progress, start again
            self._seen[key] = _Seen(mtime, t, False)
            return by_clock
        still = t - seen.since > self.stale_after
        return still if seen.moved else (by_clock or still)


PROBE_PREFIX = "clock-"  # probe files in the reader's cache folder, which listings skip


class StoreClock:
    """The clock of the file system that holds the store, read once and then kept as an offset
    from this machine's clock.

    A one-shot reader (`mmtop ls`) sees each heartbeat once, so it can only judge it by its
    age. Measured against this machine's clock, that age is wrong by however far the clock
    of the machine that set the heartbeat's mtime (the writer's, or on a shared disk the file
    server's) is off. So the reader creates a probe file beside the store's files and sets
    its mtime to "now" the way a writer's heartbeat does: the file system stamps it with the
    same clock that stamped the heartbeats. Only in a store this reader may write; otherwise
    (and if the probe fails) the reader falls back to its own clock.
    """

    def __init__(self, folder: Path, writable: bool) -> None:
        self.folder = folder
        self.writable = writable
        self._offset: float | None = None
        self.probed = False  # True once the offset came from a probe file

    def now(self) -> float:
        """The store's clock now, in seconds since the epoch."""
        if self._offset is None:
            self._offset = self._measure()
        return time.time() + self._offset

    def _measure(self) -> float:
        if not self.writable:
            return 0.0
        before = time.time()
        try:
            stamped = probe(self.folder)
        except OSError:
            return 0.0
        after = time.time()
        self.probed = True
        return stamped - (before + after) / 2


def probe(folder: Path) -> float:
    """The mtime the file system gives a new file in `folder` set to now; the file is gone
    again when this returns."""
    folder.mkdir(parents=True, exist_ok=True)
    if folder.is_symlink():  # a copied store's link may lead anywhere: never write there
        raise OSError(f"{folder} is a symbolic link")
    path = _create_probe(folder)
    try:
        return os.stat(path).st_mtime
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _create_probe(folder: Path) -> Path:
    path = folder / f"{PROBE_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    # Set to now as `touch` does (and the writers' heartbeats): on NFS the server's clock.
    os.utime(path)
    return path
