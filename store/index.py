"""When a file's mtime and size prove that it is unchanged (the "racy git" rule).

A file can change twice within one mtime tick, so something read from files is trusted later
only if the files were last modified more than `RACY_NS` before it was read.
"""

from __future__ import annotations

import time

RACY_NS = 2_000_000_000

Signature = tuple[int, ...]  # mtime_ns of the folders whose files a record is built from


def stable(sig: Signature, seen_ns: int) -> bool:
    """True if files with these mtimes cannot have changed unseen since `seen_ns`."""
    return max(sig) < seen_ns - RACY_NS


def now_ns() -> int:
    return time.time_ns()
