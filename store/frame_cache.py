"""The runs frame itself, cached as Parquet under <root>/.mmtop/ for warm opens.

Keyed by a digest of every run folder's signature (store/records.py): if no run changed since
the frame was written, opening the store costs the listing, the stats and one Parquet read.
Liveness (running vs crashed, duration of live runs) is never cached; the reader recomputes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import polars as pl

from . import paths
from .fsio import tmp_path_for
from .index import Signature, stable

FRAME_NAME = "runs-frame-v1.parquet"
DIGEST_KEY = "mmtop.digest"


def digest(entries: list[tuple[str, tuple[int, ...]]]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for path, sig in entries:
        h.update(path.encode())
        h.update(repr(sig).encode())
    return h.hexdigest()


class FrameCache:
    def __init__(self, root: Path) -> None:
        self.file = paths.cache_dir(root) / FRAME_NAME
        self.digest_file = paths.cache_dir(root) / (FRAME_NAME + ".digest")

    def get(self, key: str, sigs: list[Signature]) -> pl.DataFrame | None:
        """The cached frame if it was built from exactly these, settled, files."""
        try:
            with open(self.digest_file, encoding="ascii") as f:
                stored, _, built = f.read().strip().partition(" ")
            if stored != key or not all(stable(sig, int(built)) for sig in sigs):
                return None
            return pl.read_parquet(self.file)
        except (OSError, pl.exceptions.PolarsError):
            return None

    def put(self, key: str, frame: pl.DataFrame, built_ns: int) -> None:
        with contextlib.suppress(OSError, pl.exceptions.PolarsError):
            os.makedirs(self.file.parent, exist_ok=True)
            tmp = tmp_path_for(self.file)
            frame.write_parquet(tmp, compression="lz4")
            os.replace(tmp, self.file)
            tmp = tmp_path_for(self.digest_file)
            Path(tmp).write_text(f"{key} {built_ns}", encoding="ascii")
            os.replace(tmp, self.digest_file)
