"""Points on their way to disk: one writer's buffer, the batches not yet written, its parts.

Each flush first converts the buffered calls into a batch (no disk involved), then writes
the unwritten batches, oldest first, as parts. A batch leaves memory only once its part is
on disk, so a write that fails (a full disk) loses nothing: a later flush writes it.

Memory stays bounded while writes keep failing: past MAX_PENDING_POINTS unwritten points the
oldest batches are discarded (never the newest), and counted in `dropped`.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from .buffer import Batch, KeyStats, PointBuffer, merge_stats
from .parts import PartWriter

# About 28 bytes a point in memory (step, time, key index, value): some 300 MB.
MAX_PENDING_POINTS = 10_000_000


class PointStream:
    """The metrics (or the system samples) of one writer."""

    def __init__(self, folder: Path, writer: str) -> None:
        self.buffer = PointBuffer()
        self.parts = PartWriter(folder, writer)
        self.stats: dict[str, KeyStats] = {}  # of the points written so far
        self.dropped = 0
        self._pending: deque[Batch] = deque()
        self._pending_points = 0

    @property
    def pending_points(self) -> int:
        """Points converted but not written yet (the buffer's calls not included)."""
        return self._pending_points

    def collect(self) -> int:
        """Convert the buffered calls into a pending batch; returns the points discarded to
        keep at most MAX_PENDING_POINTS pending (the newest batch is always kept)."""
        batch = self.buffer.drain()
        if batch is not None:
            self._pending.append(batch)
            self._pending_points += batch.rows
        dropped = 0
        while self._pending_points > MAX_PENDING_POINTS and len(self._pending) > 1:
            old = self._pending.popleft()
            self._pending_points -= old.rows
            dropped += old.rows
        self.dropped += dropped
        return dropped

    def write(self) -> bool:
        """Write the pending batches as parts, oldest first; True if any was written.

        Raises what the first failing write raised; that batch and the later ones stay
        pending, and the statistics only ever cover written points.
        """
        wrote = False
        while self._pending:
            batch = self._pending[0]
            self.parts.write(batch.table)
            self._pending.popleft()
            self._pending_points -= batch.rows
            merge_stats(self.stats, batch.stats)
            wrote = True
        return wrote
