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
import pyarrow as pa
import pyarrow.parquet as pq

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

    def get(self, key: str, sigs: list[Signature]) -> pl.DataFrame | None:
        """The cached frame if it was built from exactly these, settled, files."""
        try:
            # The digest lives in the file's own metadata: frame and key are replaced together.
            meta = pq.read_schema(self.file).metadata or {}
            stored, _, built = meta.get(DIGEST_KEY.encode(), b"").decode().partition(" ")
            if stored != key or not all(stable(sig, int(built)) for sig in sigs):
                return None
            return pl.read_parquet(self.file)
        except (OSError, pl.exceptions.PolarsError):
            return None

    def put(self, key: str, frame: pl.DataFrame, built_ns: int) -> None:
        with contextlib.suppress(OSError, pa.ArrowException, pl.exceptions.PolarsError):
            os.makedirs(self.file.parent, exist_ok=True)
            tmp = tmp_path_for(self.file)
            table = frame.to_arrow()
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), DIGEST_KEY: f"{key} {built_ns}"}
            )
            pq.write_table(table, tmp, compression="lz4")
            os.replace(tmp, self.file)
