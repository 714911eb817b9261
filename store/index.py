"""The rebuildable cache of run records under <root>/.mmtop/, keyed by file signatures.

Re-opening a store of 10k runs should not re-read 30k JSON files: each record is kept with
the mtimes and sizes it was built from. A record whose files changed less than `RACY_NS`
before the cache was written is never trusted (a file can change twice within one mtime
tick), so a cold and a warm read always agree. The cache is never the truth: deleting it
only costs time, and a cache that cannot be read or written is ignored.
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


class RecordCache:
    def __init__(self, root: Path) -> None:
        self.file = paths.cache_dir(root) / CACHE_NAME
        self._entries: dict[str, tuple[list[int], dict[str, Any]]] = {}
        self._trusted_before = 0
        self._loaded = False
        self._dirty = False

    def _load(self) -> None:
        self._loaded = True
        try:
            with open(self.file, "rb") as f:
                doc = json.loads(f.read())
            self._trusted_before = int(doc["written_ns"]) - RACY_NS
            self._entries = {k: (v[0], v[1]) for k, v in doc["runs"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            self._entries = {}

    def get(self, run: str, sig: tuple[int, ...]) -> dict[str, Any] | None:
        if not self._loaded:
            self._load()
        hit = self._entries.get(run)
        if hit is None or tuple(hit[0]) != sig:
            return None
        if max(sig[0::2]) >= self._trusted_before:
            return None
        return hit[1]

    def put(self, run: str, sig: tuple[int, ...], record: dict[str, Any]) -> None:
        self._entries[run] = (list(sig), record)
        self._dirty = True

    def retain(self, runs: set[str]) -> None:
        gone = set(self._entries) - runs
        for run in gone:
            del self._entries[run]
        self._dirty = self._dirty or bool(gone)

    def save(self) -> None:
        if not self._dirty:
            return
        now = time.time_ns()
        doc = {"written_ns": now, "runs": self._entries}
        with contextlib.suppress(OSError):  # read-only store: the cache is optional
            os.makedirs(self.file.parent, exist_ok=True)
            write_bytes_atomic(self.file, json.dumps(doc, separators=(",", ":")).encode())
            self._trusted_before = now - RACY_NS
            self._dirty = False
