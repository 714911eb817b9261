"""Immutable Parquet parts of a run's metrics/ and system/ folders, and their compaction.

Each writer numbers its parts 000001, 000002, ... A compacted part named
`<writer>-<first>-<last>.parquet` holds exactly the points of that writer's parts first..last
and supersedes them. It is written (atomically) before those parts are deleted, so a reader
that lists the folder sees either the old parts or the compacted one, and `select_parts`
never returns two files that hold the same point.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import checksums
from .errors import CorruptPartError, first_line
from .fsio import remove, write_bytes_atomic
from .paths import PART_RE, part_name

if TYPE_CHECKING:
    from collections.abc import Callable

    import pyarrow as pa

# pyarrow is imported where parts are written or merged, not to list them: readers that only
# list parts (histories are read with polars) do not pay for importing it.

# Parts smaller than this are merged once enough of them pile up; bigger ones are left alone
# so compaction never rereads a long run's whole history.
SMALL_PART_ROWS = 500_000
COMPACT_AFTER = 16


@dataclass(frozen=True)
class Part:
    path: Path
    writer: str
    first: int
    last: int


def parse_part(path: Path) -> Part | None:
    m = PART_RE.fullmatch(path.name)
    if m is None:
        return None
    first = int(m["first"])
    last = int(m["last"]) if m["last"] else first
    if last < first:
        return None
    return Part(path, m["writer"], first, last)


def select_parts(names: list[Path]) -> list[Part]:
    """The parts to read: drop any part whose range another part of its writer covers."""
    by_writer: dict[str, list[Part]] = {}
    for p in names:
        part = parse_part(p)
        if part is not None:
            by_writer.setdefault(part.writer, []).append(part)
    chosen: list[Part] = []
    for parts in by_writer.values():
        # Widest first: a covering range is seen before the parts it supersedes.
        parts.sort(key=lambda q: (q.first, -q.last))
        reach = -1
        for part in parts:
            if part.last <= reach:
                continue
            chosen.append(part)
            reach = part.last
    return chosen


def list_parts(folder: Path) -> list[Part]:
    try:
        names = [Path(e.path) for e in os.scandir(folder) if e.name.endswith(".parquet")]
    except FileNotFoundError:
        return []
    return select_parts(names)


def own_part_names(folder: Path, writer: str) -> list[str]:
    return [p.path.name for p in list_parts(folder) if p.writer == writer]


def write_part(path: Path, table: pa.Table, options: dict[str, object] | None = None) -> None:
    """Write a part whole or not at all, its sha256 recorded first (see checksums).

    `options` are pyarrow's Parquet writer options; the default suits metric points.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .schema import PARQUET_OPTIONS

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **(PARQUET_OPTIONS if options is None else options))
    data = memoryview(sink.getvalue())
    checksums.record(path, checksums.digest(data))
    write_bytes_atomic(path, data)


def read_part(
    path: Path, sha256: str | None = None, columns: Callable[[str], bool] | None = None
) -> pa.Table:
    """A part's points, its page checksums verified, and its bytes against `sha256` if given;
    only the columns whose names `columns` keeps, when given (the others are not decoded).

    Raises CorruptPartError when either does not match.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    with checksums.open_regular(path) as f:
        data = f.read()
    if sha256 is not None and checksums.digest(data) != sha256:
        raise CorruptPartError(path, checksums.MISMATCH)
    # ParquetFile.read, not read_table: the latter imports pandas into a training process.
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data), page_checksum_verification=True)
        if columns is None:
            return parquet.read()
        return parquet.read(columns=[n for n in parquet.schema_arrow.names if columns(n)])
    except (OSError, pa.ArrowException) as exc:
        raise CorruptPartError(path, first_line(exc)) from exc


class PartWriter:
    """Writes one writer's parts into one folder, and compacts its own small parts."""

    def __init__(self, folder: Path, writer: str, options: dict[str, object] | None = None) -> None:
        self.folder = folder
        self.writer = writer
        self.options = options
        self._seq = 0
        self._small: list[tuple[Part, int]] = []  # parts not yet compacted, with row counts

    def write(self, table: pa.Table) -> Part:
        """Write `table` as the next part. A write that fails leaves nothing behind and takes
        no part number, so the caller can retry it; compaction is only ever attempted after
        the part is safely written, and its failure never fails the write."""
        self.folder.mkdir(parents=True, exist_ok=True)
        big = table.num_rows >= SMALL_PART_ROWS
        if big:
            # A compacted part must cover consecutive parts only: merge the pending small
            # ones now, before a big part breaks the run (its name would otherwise claim,
            # and hide from readers, the big part's number).
            self.try_compact()
        seq = self._seq + 1
        part = Part(self.folder / part_name(self.writer, seq), self.writer, seq, seq)
        write_part(part.path, table, self.options)
        self._seq = seq
        if big:
            self._small = []
        else:
            self._small.append((part, table.num_rows))
            if len(self._small) >= COMPACT_AFTER:
                self.try_compact()
        return part

    def try_compact(self) -> OSError | None:
        """`compact`, where failing to write (a full disk) just leaves the small parts as
        they are, all valid; returns the error, if any."""
        try:
            self.compact()
        except OSError as exc:
            return exc
        return None

    def compact(self) -> Part | None:
        """Merge this writer's pending small parts into one; safe while readers are open."""
        if len(self._small) < 2:
            return None
        parts = [p for p, _ in self._small]
        first, last = parts[0].first, parts[-1].last
        if last - first + 1 != sum(p.last - p.first + 1 for p in parts):
            raise AssertionError(f"parts {first}..{last} of {self.writer} are not consecutive")
        import pyarrow as pa

        try:
            tables = [read_part(p.path) for p in parts]
            merged = pa.concat_tables(tables, promote_options="permissive").combine_chunks()
        except FileNotFoundError:
            # Someone else (mmtop compact) merged them already: nothing left to do here.
            self._small = []
            return None
        out = Part(self.folder / part_name(self.writer, first, last), self.writer, first, last)
        write_part(out.path, merged, self.options)
        for p in parts:
            remove(p.path)
        checksums.prune(self.folder, self.writer, own_part_names(self.folder, self.writer))
        rows = merged.num_rows
        self._small = [(out, rows)] if rows < SMALL_PART_ROWS else []
        return out
