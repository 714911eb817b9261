"""The sha256 of every metric and system part, recorded beside it (docs/FORMAT.md).

A part cannot hold its own digest (the footer is part of the bytes hashed), so each writer
keeps `<writer>.sha256` in the parts folder, in `sha256sum` format. A part's line is appended
before the part is renamed into place: every part a reader can list has its line, and a line
whose part never appeared (a failed write) is ignored. The last line for a name wins.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from . import paths
from .errors import CorruptPartError
from .fsio import mirror_for, write_bytes_atomic

# Part names never hold white space; a torn line (a writer killed mid-append) fails to match.
_LINE = re.compile(rb"([0-9a-f]{64})  ([^\s/]+)")
# Far above what compaction leaves (a line per live part), far below what could hurt a reader.
MAX_SUMS_BYTES = 16 << 20
_CHUNK = 1 << 20
MISMATCH = f"sha256 differs from the one recorded in its <writer>{paths.PART_SUMS_SUFFIX} file"


def digest(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open_regular(path) as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def open_regular(path: Path) -> BinaryIO:
    """Open a part for reading; a FIFO or device under a part's name is refused, not waited on."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CorruptPartError(path, "not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def record(part: Path, sha256: str) -> None:
    """Append the part's line to its writer's file (one write, so lines never interleave)."""
    m = paths.PART_RE.fullmatch(part.name)
    if m is None:
        raise ValueError(f"not a part name: {part.name!r}")
    line = f"{sha256}  {part.name}\n".encode()
    sums = paths.part_sums_file(part.parent, m["writer"])
    fd = os.open(sums, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    mirror = mirror_for(sums)
    if mirror is not None:  # only this writer writes its file: the whole of it replaces the old
        mirror.put_file(sums, sums)


def recorded(folder: Path, writer: str) -> dict[str, str]:
    """Part name -> sha256 from a writer's file; empty when there is none (older stores)."""
    try:
        fd = os.open(paths.part_sums_file(folder, writer), os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return {}
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SUMS_BYTES:
            return {}
        data = os.read(fd, st.st_size + 1)
    except OSError:
        return {}
    finally:
        os.close(fd)
    sums: dict[str, str] = {}
    for line in data.splitlines():
        m = _LINE.fullmatch(line)
        if m is not None:
            sums[m[2].decode()] = m[1].decode()
    return sums


def prune(folder: Path, writer: str, keep: Iterable[str]) -> None:
    """Rewrite a writer's file with the lines of the parts in `keep` only (after compaction)."""
    sums = recorded(folder, writer)
    lines = [f"{sums[name]}  {name}\n" for name in sorted(keep) if name in sums]
    write_bytes_atomic(paths.part_sums_file(folder, writer), "".join(lines).encode())
