"""Reading the points of several runs' parts: one parallel scan when every part checks out,
folder by folder and part by part when anything fails, so one bad part costs only its points.

Parts are checked against their recorded sha256 before polars reads them: polars verifies no
checksums and a damaged file can make it panic. Parts without a recorded digest (older
stores) are read through pyarrow, which verifies page checksums and raises instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from . import checksums
from .errors import CorruptPartError, StoreError, first_line
from .parts import Part, list_parts, read_part
from .records import Problem

if TYPE_CHECKING:
    import pyarrow as pa

HISTORY_SCHEMA = {
    "run_id": pl.String(),
    "key": pl.String(),
    "step": pl.Int64(),
    "time": pl.Datetime("us", "UTC"),
    "value": pl.Float64(),
}
# What one scan of well-formed parts yields; anything else is read part by part.
_SCANNED = {
    "step": pl.Int64(),
    "time": pl.Datetime("us", "UTC"),
    "key": pl.Categorical(),
    "value": pl.Float64(),
    "_file": pl.String(),
}
# A folder changes a bounded number of times while it is read (a compaction merges it once),
# so a few fresh listings per folder are enough.
ATTEMPTS = 5
# A Rust panic inside polars surfaces as this BaseException subclass.
_PANIC = pl.exceptions.PanicException

Entry = tuple[Path, str | None]  # a part, and its recorded sha256 if any


class Verified:
    """Parts that checked out, by (inode, size, mtime): their sha256 matched, or (parts
    without one) pyarrow read them whole, page checksums verified. Parts are immutable: a
    store that reads the same runs again (a live chart, the next export batch) stats them
    and scans them with polars instead of checking them again. A part damaged later is caught
    by the next store opened (every `mmtop` command and `doctor --deep` open a fresh one).
    """

    LIMIT = 200_000

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, int, int]] = {}

    @staticmethod
    def signature(path: Path) -> tuple[int, int, int]:
        st = os.stat(path)
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def known(self, path: Path, sig: tuple[int, int, int]) -> bool:
        return self._seen.get(str(path)) == sig

    def add(self, path: Path, sig: tuple[int, int, int]) -> None:
        if len(self._seen) >= self.LIMIT:
            self._seen.clear()
        self._seen[str(path)] = sig


def empty_history() -> pl.DataFrame:
    return pl.DataFrame(schema=HISTORY_SCHEMA)


def read_histories(
    folders: dict[str, Path],
    keys: Sequence[str] | None,
    problems: list[Problem],
    verified: Verified | None = None,
) -> pl.DataFrame:
    """All points in the parts folders of several runs (run_id -> folder)."""
    verified = verified or Verified()
    try:
        listed = {run_id: list_parts(folder) for run_id, folder in folders.items()}
        return _scan(listed, keys, verified)
    except (Exception, _PANIC):  # noqa: BLE001 - damaged, foreign or compacted part
        pass  # a damaged or foreign part, or one compacted away meanwhile: go folder by folder
    frames = []
    for run_id, folder in folders.items():
        df, found = _read_folder(run_id, folder, keys, verified)
        problems.extend(found)
        frames.append(df)
    return pl.concat(frames) if frames else empty_history()


def _entries(folder: Path) -> list[Entry]:
    parts = list_parts(folder)
    sums: dict[str, dict[str, str]] = {}
    for part in parts:
        if part.writer not in sums:
            sums[part.writer] = checksums.recorded(folder, part.writer)
    return [(p.path, sums[p.writer].get(p.path.name)) for p in parts]


def _scan(
    listed: dict[str, list[Part]], keys: Sequence[str] | None, verified: Verified
) -> pl.DataFrame:
    """The fast path: raises on the first part that is missing, damaged or not well-formed."""
    owner: dict[str, str] = {}
    frames: list[pl.DataFrame] = []
    for run_id, parts in listed.items():
        sums: dict[str, dict[str, str]] = {}  # read only for parts not verified before
        for part in parts:
            sig = Verified.signature(part.path)
            if not verified.known(part.path, sig):
                if part.writer not in sums:
                    sums[part.writer] = checksums.recorded(part.path.parent, part.writer)
                sha256 = sums[part.writer].get(part.path.name)
                if sha256 is None:
                    # Read whole by pyarrow once: well-formed, so polars may scan it from now on.
                    frames.append(_tagged(_points(read_part(part.path), keys), run_id))
                    verified.add(part.path, sig)
                    continue
                if checksums.file_digest(part.path) != sha256:
                    raise CorruptPartError(part.path, checksums.MISMATCH)
                verified.add(part.path, sig)
            owner[str(part.path)] = run_id
    if owner:
        lf = pl.scan_parquet(list(owner), include_file_paths="_file", glob=False)
        if keys is not None:
            lf = lf.filter(pl.col("key").cast(pl.String).is_in(list(keys)))
        df = lf.collect()
        if dict(df.schema) != _SCANNED:
            raise StoreError(f"parts do not have the points schema: {df.schema}")
        frames.append(
            df.select(
                pl.col("_file").replace_strict(owner, return_dtype=pl.String).alias("run_id"),
                pl.col("key").cast(pl.String),
                "step",
                "time",
                "value",
            )
        )
    return pl.concat(frames) if frames else empty_history()


def _read_folder(
    run_id: str, folder: Path, keys: Sequence[str] | None, verified: Verified
) -> tuple[pl.DataFrame, list[Problem]]:
    """One run's points: one scan, else part by part. A part that vanished (compacted
    meanwhile) means a fresh listing; its points are in the part that replaced it."""
    for _attempt in range(ATTEMPTS):
        parts = list_parts(folder)
        try:
            return _scan({run_id: parts}, keys, verified), []
        except (Exception, _PANIC):  # noqa: BLE001 - damaged part: retried folder by folder
            if not all(p.path.exists() for p in parts):
                continue
        found: list[Problem] = []
        frames = []
        try:
            for path, sha256 in _entries(folder):
                df = _read_one(path, sha256, keys, found)
                if df is not None:
                    frames.append(_tagged(df, run_id))
        except FileNotFoundError:
            continue
        return (pl.concat(frames) if frames else empty_history()), found
    raise StoreError(
        f"the parts of run {run_id} kept changing while being read ({ATTEMPTS} attempts); try again"
    )


def _read_one(
    path: Path, sha256: str | None, keys: Sequence[str] | None, problems: list[Problem]
) -> pl.DataFrame | None:
    try:
        return _points(read_part(path, sha256), keys)
    except FileNotFoundError:
        raise
    except CorruptPartError as exc:
        problems.append(Problem(str(path), f"corrupt Parquet part: {exc.reason}"))
        return None
    except Exception as exc:
        if not path.exists():
            raise FileNotFoundError(path) from exc
        problems.append(Problem(str(path), f"unreadable Parquet part: {first_line(exc)}"))
        return None


def _points(table: pa.Table, keys: Sequence[str] | None) -> pl.DataFrame:
    """A part's points in the history schema (without run_id); ValueError if it has no such."""
    import pyarrow as pa

    want = {
        "step": pa.types.is_integer,
        "time": pa.types.is_timestamp,
        "key": _is_text,
        "value": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    }
    for name, ok in want.items():
        idx = table.schema.get_field_index(name)
        if idx < 0:
            raise ValueError(f"no column {name!r}")
        if not ok(table.schema.field(idx).type):
            raise ValueError(f"column {name!r} is {table.schema.field(idx).type}")
    df = pl.from_arrow(table.select(list(want)))
    assert isinstance(df, pl.DataFrame)
    time = pl.col("time")
    utc = time.dt.replace_time_zone("UTC") if df.schema["time"].time_zone is None else time  # type: ignore[attr-defined]
    df = df.select(
        pl.col("key").cast(pl.String),
        pl.col("step").cast(pl.Int64),
        utc.dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC")),
        pl.col("value").cast(pl.Float64),
    )
    if keys is not None:
        df = df.filter(pl.col("key").is_in(list(keys)))
    return df


def _is_text(t: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _tagged(df: pl.DataFrame, run_id: str) -> pl.DataFrame:
    return df.with_columns(pl.lit(run_id, pl.String).alias("run_id")).select(list(HISTORY_SCHEMA))
