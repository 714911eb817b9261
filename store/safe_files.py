"""Opening files of a store as untrusted input: regular files only, capped, inside the store.

A store can be copied from anywhere, so its files may be FIFOs (a blocking open hangs the
reader), devices or links to them (`/dev/zero` never ends), links to files outside the store
(`notes.md -> /etc/passwd` would be shown), or JSON nested deep enough to overflow the parser
or the runs frame. Every reader goes through this module: it opens with O_NOFOLLOW and
O_NONBLOCK, accepts only what fstat calls a regular file, follows a link only when its target
is inside the store, reads at most a cap per kind of file (docs/FORMAT.md, "Reading
untrusted files") and refuses JSON nested deeper than MAX_DEPTH.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from itertools import accumulate
from typing import Any, BinaryIO

from . import paths

MAX_DEPTH = 64  # nested objects and lists in one JSON document

MiB = 1 << 20
# Size caps by kind of file. Whole-file JSON over its cap is skipped and reported; text files
# are shown up to their cap with a note that they were cut.
CAP_MARKER = 64 << 10
CAP_RUN_JSON = 4 * MiB
CAP_PARAMS = 16 * MiB
CAP_SUMMARY = 64 * MiB  # 100k metric keys take about 15 MB
CAP_JSON = 16 * MiB  # inputs.json, env.json, code.json, tables/*.json
CAP_ARTIFACTS = 64 * MiB  # a logged folder lists every file in it
CAP_TEXT = 16 * MiB  # notes.md, comments.jsonl (their newest lines), code.patch
CAP_CONSOLE_TAIL = 4 * MiB  # bytes read from the end of console.log for its tail

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# A JSON string, escapes included (unrolled so that matching stays linear).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class RefusedFile(OSError):
    """A file a reader will not open: not a regular file, over its cap, or a link that
    leaves the store. Its message says which, in a few words."""


class TooDeep(ValueError):
    """JSON nested deeper than MAX_DEPTH."""


def inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """True if `path`, links resolved, is `root` or below it (links in `root` resolved too)."""
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def store_root_of(run: str | os.PathLike[str]) -> str:
    """The store that holds a run folder: runs live at <root>/<experiment>/<run_id>."""
    return os.path.dirname(os.path.dirname(os.path.normpath(run)))


def _through_link(path: str, root: str | os.PathLike[str] | None) -> str:
    if root is None or not inside(path, root):
        raise RefusedFile("symbolic link out of the store")
    return os.path.realpath(path)


def open_regular(
    path: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    dir_fd: int | None = None,
    name: str | None = None,
) -> tuple[int, int]:
    """(fd, size) of the regular file at `path`; the caller closes fd.

    A link is followed only when `root` is given and the link's target is inside it. With
    `dir_fd`, the file opened is `name` in that folder (`path` names it in messages).
    """
    where = os.fspath(path)
    try:
        if dir_fd is not None and name is not None:
            fd = os.open(name, _FLAGS, dir_fd=dir_fd)
        else:
            fd = os.open(where, _FLAGS)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        fd = os.open(_through_link(where, root), _FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RefusedFile("not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def open_dir(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> int:
    """A file descriptor of the folder at `path`, refusing links that leave `root`."""
    where = os.fspath(path)
    try:
        return os.open(where, _DIR_FLAGS)
    except OSError as exc:
        # O_DIRECTORY | O_NOFOLLOW on a link says ENOTDIR on Linux, ELOOP elsewhere.
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR) or not os.path.islink(where):
            raise
        return os.open(_through_link(where, root), _DIR_FLAGS)


def _too_large(cap: int) -> RefusedFile:
    return RefusedFile(f"larger than the {_size_text(cap)} cap")


def _size_text(size: int) -> str:
    return f"{size >> 20} MiB" if size >= MiB else f"{size >> 10} KiB"


def _read_fd(fd: int, size: int, cap: int) -> bytes:
    if size > cap:
        raise _too_large(cap)
    want = size + 1  # one byte more than fstat saw tells a file that grew since
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, want)
        parts.append(chunk)
        total += len(chunk)
        if total > cap:
            raise _too_large(cap)
        if len(chunk) < want:
            break
        want = min(MiB, cap + 1 - total)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_bytes(
    path: str | os.PathLike[str],
    cap: int,
    root: str | os.PathLike[str] | None = None,
    dir_fd: int | None = None,
    name: str | None = None,
) -> bytes:
    """The whole regular file at `path`; RefusedFile when it is over `cap` bytes."""
    fd, size = open_regular(path, root, dir_fd, name)
    try:
        return _read_fd(fd, size, cap)
    finally:
        os.close(fd)


def read_head(
    path: str | os.PathLike[str], cap: int, root: str | os.PathLike[str] | None = None
) -> tuple[bytes, bool]:
    """At most `cap` bytes from the start of a regular file, and whether it was cut."""
    fd, size = open_regular(path, root)
    try:
        return os.read(fd, min(size, cap)), size > cap
    finally:
        os.close(fd)


def read_tail(
    path: str | os.PathLike[str], cap: int, root: str | os.PathLike[str] | None = None
) -> tuple[bytes, bool]:
    """At most `cap` bytes from the end of a regular file, and whether its start was cut."""
    fd, size = open_regular(path, root)
    try:
        start = max(0, size - cap)
        return os.pread(fd, size - start, start), start > 0
    finally:
        os.close(fd)


def open_binary(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
) -> BinaryIO:
    """A file object on the regular file at `path`, for Parquet readers (which seek)."""
    fd, _ = open_regular(path, root)
    return open(fd, "rb", closefd=True)


def check_depth(data: bytes | str, limit: int = MAX_DEPTH) -> None:
    """Raise TooDeep when the JSON text nests objects and lists deeper than `limit`.

    Counting brackets bounds the depth from above, so almost every document passes in two
    C-speed counts; only one with many brackets is measured, strings taken out first.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return
    # Without a backslash no string holds an escaped quote, so every other piece between
    # quotes is outside the strings: a C-speed split instead of a regex over every string.
    outside = b"".join(raw.split(b'"')[::2]) if b"\\" not in raw else _STRING.sub(b"", raw)
    brackets = outside.translate(None, _NOT_BRACKETS)
    if brackets and max(accumulate(_STEP[b] for b in brackets)) > limit:
        raise TooDeep(f"nested deeper than {limit} levels")


def loads(data: bytes | str) -> Any:
    """json.loads for untrusted text: refuses absurd nesting before parsing it."""
    check_depth(data)
    return json.loads(data)


def read_json(
    path: str | os.PathLike[str],
    cap: int,
    root: str | os.PathLike[str] | None = None,
    dir_fd: int | None = None,
    name: str | None = None,
) -> Any:
    """The JSON document in a regular file of at most `cap` bytes, nested at most MAX_DEPTH."""
    return loads(read_bytes(path, cap, root, dir_fd, name))


def json_cap(name: str) -> int:
    """The cap for a JSON file of a run, by its file name."""
    return _JSON_CAPS.get(name, CAP_JSON)


_JSON_CAPS = {
    paths.STORE_MARKER: CAP_MARKER,
    paths.RUN_JSON: CAP_RUN_JSON,
    paths.PARAMS_JSON: CAP_PARAMS,
    paths.ARTIFACTS_JSON: CAP_ARTIFACTS,
}
