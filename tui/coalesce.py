"""One load in flight at a time; a request during a load schedules exactly one more.

Watcher events come in bursts; reloading once per burst, after the current load, keeps the
UI current without piling up worker threads.
"""

from __future__ import annotations

from collections.abc import Callable


class Coalescer:
    def __init__(self, start: Callable[[], object]) -> None:
        self._start = start
        self.busy = False
        self.pending = False

    def request(self) -> None:
        if self.busy:
            self.pending = True
            return
        self.busy = True
        self._start()

    def done(self) -> None:
        self.busy = False
        if self.pending:
            self.pending = False
            self.request()
