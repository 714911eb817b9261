"""Chunked writers for long exports: each chunk is written and dropped before the next.

A history export of tens of millions of points never exists twice in memory: the store
reads one batch of runs, the writer formats it slice by slice straight into the output.
Every writer knows its columns up front, so an export with no points is still a valid
file (a CSV header, an empty JSON array, a Parquet file with its schema).
"""

from __future__ import annotations

import io
import json
from typing import IO, Protocol

import polars as pl

from mmtop.tui import csv_out
from mmtop.tui.safe_text import json_inert

# Rows formatted at once: bounds the text buffer polars or json builds per write.
SLICE_ROWS = 65_536
JSON_SLICE_ROWS = 16_384  # JSON text is ~3x CSV, and its separators are added in Python
# Compact, like polars' own JSON, so both paths write the same text for the same row.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=True, separators=(",", ":")).encode


class ChunkWriter(Protocol):
    def write(self, chunk: pl.DataFrame) -> None: ...

    def close(self) -> None: ...


def open_writer(fmt: str, out: IO[bytes], template: pl.DataFrame) -> ChunkWriter:
    """A writer for `fmt` whose chunks all have `template`'s columns and dtypes."""
    if fmt == "csv":
        return CsvChunks(out, template)
    if fmt == "parquet":
        return ParquetChunks(out, template)
    return JsonChunks(out, template, lines=fmt == "jsonl")


def _slices(chunk: pl.DataFrame) -> list[pl.DataFrame]:
    return [chunk.slice(i, SLICE_ROWS) for i in range(0, chunk.height, SLICE_ROWS)]


class CsvChunks:
    def __init__(self, out: IO[bytes], template: pl.DataFrame) -> None:
        self.out = out
        self.template = template.clear()
        self.started = False

    def write(self, chunk: pl.DataFrame) -> None:
        for part in _slices(chunk):
            csv_out.write_csv(part, self.out, with_header=not self.started)
            self.started = True

    def close(self) -> None:
        if not self.started:
            csv_out.write_csv(self.template, self.out)
            self.started = True


class JsonChunks:
    """JSON lines, or one JSON array written row by row; NaN/inf kept as Python json does."""

    def __init__(self, out: IO[bytes], template: pl.DataFrame, *, lines: bool) -> None:
        self.out = out
        self.lines = lines
        self.rows = 0
        self.floats = [n for n, t in template.schema.items() if t in (pl.Float64, pl.Float32)]
        self.times = [n for n, t in template.schema.items() if isinstance(t, pl.Datetime)]
        if not lines:
            out.write(b"[")

    def write(self, chunk: pl.DataFrame) -> None:
        for start in range(0, chunk.height, JSON_SLICE_ROWS):
            part = chunk.slice(start, JSON_SLICE_ROWS)
            if self.times:
                part = part.with_columns(pl.col(self.times).dt.to_string(csv_out.ISO_FORMAT))
            self._emit(self._fast(part) if self._finite(part) else self._exact(part), part.height)

    def _finite(self, part: pl.DataFrame) -> bool:
        if not self.floats:
            return True
        bad = part.select(pl.any_horizontal(~pl.col(self.floats).is_finite()).any()).item()
        return not bad

    def _fast(self, part: pl.DataFrame) -> bytes:
        # polars writes floats in shortest round-trip form, but NaN/inf as null: finite only.
        buf = io.BytesIO()
        part.write_ndjson(buf)
        return json_inert(buf.getvalue().decode()).encode()

    def _exact(self, part: pl.DataFrame) -> bytes:
        names = part.columns
        rows = (_ENCODE(dict(zip(names, row, strict=True))) + "\n" for row in part.iter_rows())
        return json_inert("".join(rows)).encode()

    def _emit(self, data: bytes, rows: int) -> None:
        """`data` holds `rows` JSON texts, one a line (JSON strings never hold a raw newline)."""
        if not rows:
            return
        if self.lines:
            self.out.write(data)
        else:
            sep = b",\n" if self.rows else b"\n"
            self.out.write(sep + data.rstrip(b"\n").replace(b"\n", b",\n"))
        self.rows += rows

    def close(self) -> None:
        if not self.lines:
            self.out.write(b"\n]\n" if self.rows else b"]\n")


class ParquetChunks:
    def __init__(self, out: IO[bytes], template: pl.DataFrame) -> None:
        import pyarrow.parquet as pq

        self.schema = template.clear().to_arrow().schema
        self.writer = pq.ParquetWriter(out, self.schema, compression="zstd")

    def write(self, chunk: pl.DataFrame) -> None:
        if chunk.height:
            self.writer.write_table(chunk.to_arrow().cast(self.schema))

    def close(self) -> None:
        self.writer.close()
