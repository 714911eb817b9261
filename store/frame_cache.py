"""The runs frame, kept between opens as Parquet under <root>/.mmtop/ and updated row by row.

Each row carries the signature of the files it was built from (`_sig`) and when they were read
(`_read_ns`). On the next open only runs whose signature changed, or that were read too soon
after a change to be trusted (store/index.py), are read again; the others are reused. The
metadata also says which experiment folders the rows vouch for, as an index snapshot does
(store/run_index.py): a warm open of a large store costs one Parquet read, a listing of the
changed experiment folders and a few stats per run, and a live run updating costs one run's
files. Liveness (running vs crashed) is never cached.

Keyed columns (metric summaries, datasets) are stored as fixed-size lists with their keys in
the file's metadata: one Parquet column each, however many metric keys a run logged (as
struct fields, 100k keys made 300k columns and seconds of footer to read).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from . import paths
from .fsio import write_atomic
from .keyed import KEYED, Keyed, blank
from .safe_files import MAX_DEPTH, open_binary

# The version is in the name: a reader never meets a cache in a layout it does not know
# (an older one is left alone by newer readers, and removed when they write theirs).
FRAME_NAME = "runs-frame-v2.parquet"
OLD_NAMES = ("runs-frame-v1.parquet",)
SIG_COL = "_sig"
READ_COL = "_read_ns"
PARAMS_COL = "_params"  # the run's params as JSON text: lets the params column be rebuilt
_EMPTY_KEY = "mmtop.empty_structs"
_ORDER_KEY = "mmtop.columns"
_KEYS_KEY = "mmtop.keys"


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
        self.meta: dict[str, str] = {}  # the Parquet metadata of the last frame loaded

    def load(self) -> Keyed | None:
        # polars only (no pyarrow import): `mmtop ls` pays for what it uses.
        try:
            # A regular file, not a link or a FIFO (a copied store brings its .mmtop/ along);
            # read through the file object, so a root that looks like a glob is not expanded.
            with open_binary(self.file) as f:
                schema = pl.read_parquet_schema(f)
            meta = pl.read_parquet_metadata(self.file)
            self.meta = meta
            if too_deep(schema.values()):
                return None  # never handed to polars' reader: it could crash the process
            keys = _keys(meta.get(_KEYS_KEY), schema)
            if keys is None:
                return None
            frame = pl.read_parquet(self.file, glob=False)
            empty = json.loads(meta.get(_EMPTY_KEY, "[]"))
            order = json.loads(meta.get(_ORDER_KEY, "[]"))
            frame = frame.with_columns(
                pl.lit(None, dtype=pl.Struct([])).alias(name) for name in empty
            ).with_columns(
                blank(name, frame.height, 0) for name, names in keys.items() if not names
            )
            if not {SIG_COL, READ_COL, PARAMS_COL} <= set(frame.columns):
                return None
            return Keyed(frame.select(order) if order else frame, keys)
        except (OSError, ValueError, TypeError, pl.exceptions.PolarsError):
            return None

    def save(self, keyed: Keyed, extra: dict[str, str] | None = None) -> None:
        # Parquet cannot hold a struct without fields (no params at all, say), and pyarrow
        # fails on a list of size 0: leave those columns out (their names and keys are in the
        # metadata).
        frame = keyed.frame
        if too_deep(frame.drop(keyed.keys).schema.values()):
            return  # cannot happen with checked records; never leave a cache that crashes
        empty = [n for n, t in frame.schema.items() if t == pl.Struct([])]
        no_keys = [n for n, names in keyed.keys.items() if not names]
        try:
            os.makedirs(self.file.parent, exist_ok=True)
            write_atomic(
                self.file,
                lambda tmp: frame.drop(empty, no_keys).write_parquet(
                    tmp,
                    compression="lz4",
                    metadata={
                        _EMPTY_KEY: json.dumps(empty),
                        _ORDER_KEY: json.dumps(frame.columns),
                        _KEYS_KEY: json.dumps(keyed.keys),
                        **(extra or {}),
                    },
                ),
            )
            for name in OLD_NAMES:  # an older layout's cache: never read again
                (self.file.parent / name).unlink(missing_ok=True)
        except (OSError, pl.exceptions.PolarsError):
            pass  # read-only store, full disk: the cache is optional


def _keys(text: str | None, schema: dict[str, pl.DataType]) -> dict[str, list[str]] | None:
    """The keys of each keyed column, if the metadata names them and they fit the schema."""
    keys = json.loads(text) if text else None
    if not isinstance(keys, dict) or set(keys) != set(KEYED):
        return None
    for name, names in keys.items():
        dtype = schema.get(name)
        if names == [] and dtype is None:
            continue
        if not (
            isinstance(names, list)
            and isinstance(dtype, pl.Array)
            and dtype.size == len(names)
            and dtype.inner == KEYED[name]
            and _sorted_names(names)
        ):
            return None
    return keys


def _sorted_names(names: list[object]) -> bool:
    """Strings, each greater than the one before (no duplicates), checked by polars: a
    Python loop over 100k keys costs more than the rest of a warm open."""
    try:
        series = pl.Series(names, dtype=pl.String, strict=True)
    except (TypeError, pl.exceptions.PolarsError):
        return False
    return series.null_count() == 0 and bool((series.head(-1) < series.tail(-1)).all())
