"""The rebuildable cache of run records under <root>/.mmtop/, keyed by file signatures.

Re-opening a store of 10k runs should not re-read 30k JSON files: each record is kept with
the mtimes and sizes it was built from and the time it was read. A file can change twice
within one mtime tick, so a record is trusted only if its files were last modified more than
`RACY_NS` before it was read (the "racy git" rule); a cold and a warm read always agree. The
cache is never the truth: deleting it only costs time, and one that cannot be read or written
is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from . import paths
from .fsio import write_bytes_atomic

CACHE_NAME = "runs-index-v1.json"
RACY_NS = 2_000_000_000

Signature = tuple[int, ...]


def stable(sig: Signature, seen_ns: int) -> bool:
    """True if files with these mtimes cannot have changed unseen since `seen_ns`."""
    return max(sig[0::2]) < seen_ns - RACY_NS


class RecordCache:
    def __init__(self, root: Path) -> None:
        self.file = paths.cache_dir(root) / CACHE_NAME
        self._entries: dict[str, tuple[list[int], int, dict[str, Any]]] = {}
        self._loaded = False
        self._dirty = False

    def _load(self) -> None:
        self._loaded = True
        try:
            with open(self.file, "rb") as f:
                doc = json.loads(f.read())
            self._entries = {k: (v[0], int(v[1]), v[2]) for k, v in doc["runs"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            self._entries = {}

    def get(self, run: str, sig: Signature) -> dict[str, Any] | None:
        if not self._loaded:
            self._load()
        hit = self._entries.get(run)
        if hit is None or tuple(hit[0]) != sig or not stable(sig, hit[1]):
            return None
        return hit[2]

    def put(self, run: str, sig: Signature, record: dict[str, Any], read_ns: int) -> None:
        if not self._loaded:
            self._load()
        self._entries[run] = (list(sig), read_ns, record)
        self._dirty = True

    def retain(self, runs: set[str]) -> None:
        gone = set(self._entries) - runs
        for run in gone:
            del self._entries[run]
        self._dirty = self._dirty or bool(gone)

    def save(self) -> None:
        if not self._dirty:
            return
        doc = {"runs": self._entries}
        with contextlib.suppress(OSError):  # read-only store: the cache is optional
            os.makedirs(self.file.parent, exist_ok=True)
            write_bytes_atomic(self.file, json.dumps(doc, separators=(",", ":")).encode())
            self._dirty = False


def now_ns() -> int:
    return time.time_ns()
