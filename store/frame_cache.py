"""The runs frame, kept between opens as Parquet under <root>/.mmtop/ and updated row by row.

Each row carries the signature of the files it was built from (`_sig`) and when they were read
(`_read_ns`). On the next open only runs whose signature changed, or that were read too soon
after a change to be trusted (store/index.py), are read again; the others are reused. So a warm
open of a large store costs the listing, the stats and one Parquet read, and a live run
updating costs one run's files. Liveness (running vs crashed) is never cached.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from . import paths
from .fsio import write_atomic
from .safe_files import MAX_DEPTH, open_binary

FRAME_NAME = "runs-frame-v1.parquet"
SIG_COL = "_sig"
READ_COL = "_read_ns"
PARAMS_COL = "_params"  # the run's params as JSON text: lets the params column be rebuilt
_EMPTY_KEY = "mmtop.empty_structs"
_ORDER_KEY = "mmtop.columns"


# Polars crashes the process (not an exception) reading a Parquet struct nested some hundreds
# deep. Records are at most MAX_DEPTH deep (store/safe_files.py); the frame adds one level.
MAX_FRAME_DEPTH = MAX_DEPTH + 1


def too_deep(dtypes: Iterable[pl.DataType], limit: int = MAX_FRAME_DEPTH) -> bool:
    """True if any column nests structs or lists deeper than `limit` (no recursion: the
    schema of a damaged cache may be as deep as it likes)."""
    stack = [(dtype, 1) for dtype in dtypes]
    while stack:
        dtype, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(dtype, pl.Struct):
            stack.extend((f.dtype, depth + 1) for f in dtype.fields)  # type: ignore[misc]
        elif isinstance(dtype, pl.List | pl.Array):
            stack.append((dtype.inner, depth + 1))  # type: ignore[arg-type]
    return False


class FrameCache:
    def __init__(self, root: Path) -> None:
        self.file = paths.cache_dir(root) / FRAME_NAME

    def load(self) -> pl.DataFrame | None:
        # polars only (no pyarrow import): `mmtop ls` pays for what it uses.
        try:
            # A regular file, not a link or a FIFO (a copied store brings its .mmtop/ along);
            # read through the file object, so a root that looks like a glob is not expanded.
            with open_binary(self.file) as f:
                schema = pl.read_parquet_schema(f)
            meta = pl.read_parquet_metadata(self.file)
            if too_deep(schema.values()):
                return None  # written before records were bounded: rebuild rather than crash
            frame = pl.read_parquet(self.file, glob=False)
            empty = json.loads(meta.get(_EMPTY_KEY, "[]"))
            order = json.loads(meta.get(_ORDER_KEY, "[]"))
            frame = frame.with_columns(
                pl.lit(None, dtype=pl.Struct([])).alias(name) for name in empty
            )
            if not {SIG_COL, READ_COL, PARAMS_COL} <= set(frame.columns):
                return None
            return frame.select(order) if order else frame
        except (OSError, ValueError, pl.exceptions.PolarsError):
            return None

    def save(self, frame: pl.DataFrame) -> None:
        # Parquet cannot hold a struct without fields (no params at all, say): leave those
        # columns out and name them in the metadata instead.
        if too_deep(frame.schema.values()):
            return  # cannot happen with checked records; never leave a cache that crashes
        empty = [n for n, t in frame.schema.items() if t == pl.Struct([])]
        try:
            os.makedirs(self.file.parent, exist_ok=True)
            write_atomic(
                self.file,
                lambda tmp: frame.drop(empty).write_parquet(
                    tmp,
                    compression="lz4",
                    metadata={
                        _EMPTY_KEY: json.dumps(empty),
                        _ORDER_KEY: json.dumps(frame.columns),
                    },
                ),
            )
        except (OSError, pl.exceptions.PolarsError):
            pass  # read-only store, full disk: the cache is optional
