"""Content fingerprints of datasets: files and folders hashed as streams, frames from their
Arrow buffers.

Files: `sha256:` of the bytes, read in 4 MiB blocks into one reused buffer, so a file of any
size needs a few MiB of memory (`sha256sum FILE` prints the same digest). Folders: `sha256:`
of the lines `<relative path>\\0<file sha256>\\n` in path order (the rule of folder artifacts),
files hashed a few at a time. Frames (polars, pandas, pyarrow, numpy): `sha256:` of a
canonical encoding of the table, so equal data gives the same fingerprint whatever library,
process or chunking it came from (docs/FORMAT.md, "Dataset fingerprints").
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BLOCK = 4 << 20
PREFIX = "sha256:"
FRAME_VERSION = b"mmtop-frame-1\n"
ROWS_PER_WINDOW = 1 << 16
# Hashing releases the GIL: a few files at once use both cores of a small box, and each
# worker holds one block.
FOLDER_WORKERS = 4


def hash_file(path: str | os.PathLike[str]) -> str:
    """sha256 hex of a file's bytes, streamed through one reused block."""
    h = hashlib.sha256()
    buf = bytearray(BLOCK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def folder_files(folder: Path) -> list[Path]:
    """Regular files below `folder`, by relative path; dot-files and links left out."""
    found: list[Path] = []
    for base, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            p = Path(base) / name
            if not name.startswith(".") and p.is_file() and not p.is_symlink():
                found.append(p)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def hash_folder(folder: Path) -> tuple[str, list[dict[str, Any]]]:
    """(sha256 hex of the folder, [{path, size, sha256}] per file)."""
    files = folder_files(folder)
    with ThreadPoolExecutor(max_workers=FOLDER_WORKERS) as pool:
        digests = list(pool.map(hash_file, files))
    entries = [
        {"path": p.relative_to(folder).as_posix(), "size": p.stat().st_size, "sha256": d}
        for p, d in zip(files, digests, strict=True)
    ]
    lines = "".join(f"{e['path']}\0{e['sha256']}\n" for e in entries)
    return hashlib.sha256(lines.encode()).hexdigest(), entries


def hash_table(table: Any) -> str:
    """sha256 hex of a pyarrow Table's canonical encoding (see `canonical_type`)."""
    import pyarrow as pa

    h = hashlib.sha256(FRAME_VERSION)
    columns = [canonical_column(table.column(i)) for i in range(table.num_columns)]
    for name, col in zip(table.column_names, columns, strict=True):
        _field(h, str(name).encode())
        _field(h, str(col.type).encode())
    h.update(struct.pack("<q", table.num_rows))
    for col in columns:
        for start in range(0, table.num_rows, ROWS_PER_WINDOW):
            window = col.slice(start, ROWS_PER_WINDOW)
            array = window.combine_chunks() if isinstance(window, pa.ChunkedArray) else window
            for part in _encode(array):
                h.update(part)
    return h.hexdigest()


def _field(h: Any, data: bytes) -> None:
    h.update(struct.pack("<q", len(data)))
    h.update(data)


def canonical_type(t: Any) -> Any:
    """The type a column is hashed as: strings and binaries of every width as large ones,
    dictionaries as their values, timestamps and durations in microseconds (when lossless,
    else as they are): the forms in which polars and pandas hand over the same data."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return canonical_type(t.value_type)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.large_string()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.large_binary()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", t.tz)
    if pa.types.is_duration(t):
        return pa.duration("us")
    if pa.types.is_large_list(t) or pa.types.is_list(t) or pa.types.is_list_view(t):
        return pa.large_list(canonical_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, canonical_type(f.type)) for f in t])
    return t


def canonical_column(col: Any) -> Any:
    import pyarrow as pa

    target = canonical_type(col.type)
    if target == col.type:
        return col
    if pa.types.is_dictionary(col.type):
        col = pa.chunked_array([c.dictionary_decode() for c in col.chunks], col.type.value_type)
        if canonical_type(col.type) == col.type:
            return col
    try:
        return col.cast(target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return col  # nanoseconds that microseconds would round: hashed at their own unit


def _encode(array: Any) -> Iterator[bytes | memoryview]:
    """A window of one column as bytes that depend on its values only: validity as packed
    bits, values under nulls zeroed, strings as lengths then bytes, offsets rebased."""
    import numpy as np
    import pyarrow as pa

    n = len(array)
    nulls = array.null_count
    yield struct.pack("<qq", n, nulls)
    if nulls:
        valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        yield np.packbits(valid).tobytes()
    t = array.type
    if pa.types.is_boolean(t):
        values = array.fill_null(False) if nulls else array
        yield np.packbits(np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)).tobytes()
    elif pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        values = array.fill_null(pa.scalar(b"" if pa.types.is_large_binary(t) else "", t))
        offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
            values.offset : values.offset + n + 1
        ]
        yield np.diff(offsets).astype("<i8").tobytes()
        data = values.buffers()[2]
        if data is not None and n:
            yield memoryview(data)[int(offsets[0]) : int(offsets[-1])]
    elif pa.types.is_null(t):
        return
    elif pa.types.is_primitive(t) or pa.types.is_fixed_size_binary(t) or pa.types.is_decimal(t):
        width = t.byte_width
        raw = memoryview(array.buffers()[1])[array.offset * width : (array.offset + n) * width]
        if not nulls:
            yield raw
            return
        # The bytes under a null are whatever the producer left there: zero them.
        rows = np.frombuffer(raw, dtype=np.uint8).reshape(n, width).copy()
        rows[~valid] = 0
        yield rows.tobytes()
    else:
        # Nested and rare types: their values as JSON text, row by row.
        import json

        for value in array.to_pylist():
            _text = json.dumps(value, sort_keys=True, default=repr).encode()
            yield struct.pack("<q", len(_text)) + _text
