"""Judging a heartbeat by its progress, not by whose clock is right.

A heartbeat's mtime is set by the clock of the machine that stores the file: the writer's
own, or on a shared disk the file server's. Comparing it with the reader's clock is only
right when the clocks agree. A reader that looks more than once (the app, polling) can do
better: a heartbeat that moved forward while it watched is alive, whatever the clocks say, and one
that did not move for `stale_after` seconds of the reader's own monotonic clock is stale,
however fresh its mtime looks. Until it has seen a heartbeat twice, the reader can only go
by the clocks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


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
