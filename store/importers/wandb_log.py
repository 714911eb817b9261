"""The framing of a `.wandb` file: LevelDB's log format, with W&B's own file header.

A 7-byte file header (`:W&B`, magic 0xBEE1 little-endian, version 0), then 32 KiB blocks of
chunks. A chunk is a 7-byte header (CRC-32 (IEEE, as zlib computes it) of the type byte and
the data, little-endian; data length, 2 bytes; type: 1 full, 2 first, 3 middle, 4 last) and
its data; a record is one full chunk or first, middles and last. Fewer than 7 bytes left in
a block are zero padding, and a chunk header of zeros (a preallocated block) means the rest
of that block is empty. Read as wandb-core's `core/pkg/leveldb` writes it.

A file that ends inside a chunk or between the chunks of one record (its writer stopped
mid-write) keeps every record before; any other damage fails the file.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

BLOCK = 32 * 1024
HEADER = 7
IDENT = b":W&B"
MAGIC = 0xBEE1
VERSION = 0
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
_CHUNK = struct.Struct("<IHB")


class CorruptLog(ValueError):
    """A `.wandb` file that is not one, or damaged before its end."""


@dataclass
class Framed:
    records: list[bytes] = field(default_factory=list)
    # Where the file stops making sense, when it ends mid-record: byte offset of that record.
    torn_at: int | None = None


def read_records(data: bytes) -> Framed:
    """Every whole record of a `.wandb` file's bytes, in order."""
    if len(data) < HEADER or data[:4] != IDENT:
        raise CorruptLog("not a W&B run file (no :W&B header)")
    magic, version = struct.unpack_from("<HB", data, 4)
    if magic != MAGIC:
        raise CorruptLog(f"not a W&B run file (magic {magic:#06x})")
    if version != VERSION:
        raise CorruptLog(f"W&B run file version {version} is not known (only {VERSION})")
    out = Framed()
    view = memoryview(data)  # chunks are sliced without copying; records are joined once
    pos = HEADER
    parts: list[memoryview] = []
    start = pos  # where the record being put together began
    size = len(data)
    while pos < size:
        room = BLOCK - pos % BLOCK
        if room < HEADER:
            pos += room  # the block's zero padding
            continue
        if pos + HEADER > size:
            out.torn_at = start if parts else pos
            return out
        crc, length, kind = _CHUNK.unpack_from(data, pos)
        if kind == 0 and length == 0 and crc == 0:
            pos += room
            continue
        end = pos + HEADER + length
        if end > size:
            out.torn_at = start if parts else pos
            return out
        if length > room - HEADER:
            raise CorruptLog(f"chunk at byte {pos} runs past its block")
        if zlib.crc32(view[pos + HEADER - 1 : end]) != crc:
            raise CorruptLog(f"chunk at byte {pos} is corrupt (CRC mismatch)")
        chunk = view[pos + HEADER : end]
        if kind == FULL or kind == FIRST:
            if parts:
                raise CorruptLog(f"record at byte {start} has no last chunk")
            start = pos
            if kind == FULL:
                out.records.append(bytes(chunk))
            else:
                parts = [chunk]
        elif kind == MIDDLE or kind == LAST:
            if not parts:
                raise CorruptLog(f"chunk at byte {pos} continues no record")
            parts.append(chunk)
            if kind == LAST:
                out.records.append(b"".join(parts))
                parts = []
        else:
            raise CorruptLog(f"chunk at byte {pos} has unknown type {kind}")
        pos = end
    if parts:
        out.torn_at = start
    return out
