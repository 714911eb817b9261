"""Chunked writers for long exports: each chunk is written and dropped before the next.

A history export of tens of millions of points never exists twice in memory: the store
reads one batch of runs, the writer formats it slice by slice straight into the output.
Every writer knows its columns up front, so an export with no points is still a valid
file (a CSV header, an empty JSON array, a Parquet file with its schema).
"""

from __future__ import annotations

from typing import IO, Protocol

import polars as pl

from tui.cli import cells, formats

# Rows formatted at once: bounds the text buffer polars or json builds per write.
SLICE_ROWS = 65_536


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
            formats.write_csv(part, self.out, header=not self.started)
            self.started = True

    def close(self) -> None:
        if not self.started:
            formats.write_csv(self.template, self.out)
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
        for part in _slices(chunk):
            if self.times:
                part = part.with_columns(pl.col(self.times).dt.to_string(formats.ISO_FORMAT))
            text = self._fast(part) if self._finite(part) else self._exact(part)
            self._emit(text)

    def _finite(self, part: pl.DataFrame) -> bool:
        if not self.floats:
            return True
        bad = part.select(pl.any_horizontal(~pl.col(self.floats).is_finite()).any()).item()
        return not bad

    def _fast(self, part: pl.DataFrame) -> list[str]:
        # polars writes floats in shortest round-trip form, but NaN/inf as null: finite only.
        return [line for line in part.write_ndjson().split("\n") if line]

    def _exact(self, part: pl.DataFrame) -> list[str]:
        names = part.columns
        return [cells.json_dumps(dict(zip(names, row, strict=True))) for row in part.iter_rows()]

    def _emit(self, lines: list[str]) -> None:
        if not lines:
            return
        if self.lines:
            self.out.write(("\n".join(lines) + "\n").encode())
        else:
            sep = ",\n" if self.rows else "\n"
            self.out.write((sep + ",\n".join(lines)).encode())
        self.rows += len(lines)

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
