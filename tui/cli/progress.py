"""A one-line progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from mmtop.tui.cli.common import is_tty

WIDTH = 30
MIN_INTERVAL = 0.1  # seconds between redraws: drawing must not slow the export down


class Progress:
    def __init__(self, total: int, what: str, stream: IO[Any] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = is_tty(self.stream)
        self.total = max(total, 1)
        self.what = what
        self.last = 0.0
        self.drawn = False

    def update(self, done: int, points: int, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self.last < MIN_INTERVAL:
            return
        self.last = now
        filled = int(WIDTH * min(done, self.total) / self.total)
        bar = "#" * filled + "-" * (WIDTH - filled)
        self.stream.write(f"\r{self.what} [{bar}] {done}/{self.total} runs, {points:,} points")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
