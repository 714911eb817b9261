"""Small file-system primitives that keep every file whole or absent.

Writers never leave a half-written file under its final name: they write a temporary file in
the same folder and `os.replace` it (atomic on POSIX). Read-modify-write of shared JSON files
(run.json) happens under an advisory lock so concurrent writers do not lose each other's update.

A local folder can be the staging copy of a store on object storage (store/s3/push.py): every
write below then also goes to the object store, in the way its rule needs there (a plain PUT,
a conditional create, a compare-and-swap), before it is made locally.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from . import safe_files
from .paths import LOCK_FILE, TMP_SUFFIX


class Mirror(Protocol):
    """Where the writes under a staging folder also go (store/s3/push.py)."""

    def put_file(self, path: Path, source: Path) -> None:
        """Make `path`'s object hold the bytes of the local file `source`."""

    def create(self, path: Path, data: bytes) -> bytes | None:
        """Create `path`'s object unless it exists: None if created, else what it holds."""

    def update(self, path: Path, change: Callable[[Any], None]) -> Any:
        """Apply `change` to the JSON object at `path` (FileNotFoundError if absent)."""

    def append(self, path: Path, data: bytes) -> None:
        """Add `data` at the end of `path`'s object (created when absent)."""

    def beat(self, path: Path) -> None:
        """Refresh a heartbeat."""

    def remove(self, path: Path) -> None:
        """Delete `path`'s object, if any."""


_mirrors: dict[str, Mirror] = {}  # staging folder + os.sep -> its mirror


def attach_mirror(folder: Path, mirror: Mirror) -> None:
    """Send every write under `folder` (an absolute path) to `mirror` as well."""
    _mirrors[os.path.join(os.fspath(folder), "")] = mirror


def detach_mirror(folder: Path) -> None:
    _mirrors.pop(os.path.join(os.fspath(folder), ""), None)


def mirror_for(path: Path) -> Mirror | None:
    if not _mirrors:
        return None
    text = os.fspath(path)
    for folder, mirror in list(_mirrors.items()):
        if text.startswith(folder):
            return mirror
    return None


def tmp_path_for(path: Path) -> Path:
    """A temporary name beside `path`, unique per process and call; readers skip `*.tmp`."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}")


def write_new_file(path: Path, data: bytes | memoryview) -> None:
    """Create `path`, which must not exist, holding `data`.

    Every file the writer creates (parts, JSON records) gets its bytes through here, so a
    test can give the whole writer a full disk by replacing this one function.
    """
    with open(path, "xb") as f:
        f.write(data)


def write_atomic(path: Path, fill: Callable[[Path], object]) -> None:
    """Make `path` hold what `fill` writes to the temporary path it is given, whole or not at
    all: on any failure the temporary file goes and `path` keeps what it had.

    Every write-then-rename in the store goes through here, whatever writes the bytes
    (Parquet writers, a file copy), so none can leave a `.tmp` behind or half a file.
    """
    tmp = tmp_path_for(path)
    try:
        fill(tmp)
        mirror = mirror_for(path)
        if mirror is not None:
            mirror.put_file(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: Path, data: bytes | memoryview) -> None:
    write_atomic(path, lambda tmp: write_new_file(tmp, data))


def dumps(obj: Any) -> bytes:
    # allow_nan keeps NaN/inf summaries as the JSON extensions Python and polars both read.
    return json.dumps(obj, ensure_ascii=False, indent=1, default=_json_default).encode("utf-8")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def write_json_atomic(path: Path, obj: Any) -> None:
    write_bytes_atomic(path, dumps(obj))


def create_json_exclusive(path: Path, obj: Any) -> bool:
    """Write `path` only if it does not exist yet; True if this call created it.

    Hard-linking a finished temporary file is atomic and fails if the name exists, so
    exactly one of several racing processes creates the file, and readers never see it partial.
    Mirrored, the object store decides the race, and the local file then holds what the winner
    wrote.
    """
    mirror = mirror_for(path)
    if mirror is not None:
        data = dumps(obj)
        theirs = mirror.create(path, data)
        _replace_locally(path, data if theirs is None else theirs)
        return theirs is None
    tmp = tmp_path_for(path)
    try:
        write_new_file(tmp, dumps(obj))
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _replace_locally(path: Path, data: bytes) -> None:
    """The local copy of a mirrored file, made to hold what its object holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(path)
    try:
        write_new_file(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_json(path: str | Path, cap: int | None = None) -> Any:
    """A store's JSON file, read as untrusted input (store/safe_files.py): a link, a FIFO, a
    file over its cap or absurd nesting is an OSError or ValueError naming what is wrong."""
    return safe_files.read_json(path, cap or safe_files.json_cap(os.path.basename(path)))


# Lock files open in this process, per folder: flock belongs to an open file, so a second
# os.open + flock in the same process would wait for itself. That happens when SIGTERM's
# handler finishes a run while the interrupted code is inside `locked()`. A signal handler
# runs between any two bytecodes of the code it interrupts, so no step of `locked()` may leave
# the flock held by a file that `_open` does not list: the file stays open and listed while
# its lock comes and goes, and is closed only when idle (unlocked), delisted first.
_open: dict[str, list[int]] = {}  # folder -> [fd, depth]; depth 0: open but unlocked
_thread_locks: dict[str, threading.RLock] = {}
_registry = threading.RLock()  # re-entrant: a handler may interrupt its holder
MAX_IDLE_LOCK_FILES = 32


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on `folder/.lock`, for read-modify-write of its files.

    Re-entrant within a thread (and so within a signal handler on the main thread); other
    threads of the process wait on a thread lock, other processes on the flock.
    """
    key = str(folder)
    with _registry:
        guard = _thread_locks.setdefault(key, threading.RLock())
    with guard:
        with _registry:  # the list of open files is shared by every thread
            while True:
                entry = _open.get(key)
                if entry is None:
                    _close_idle()
                    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
                    entry = _open.setdefault(key, [fd, 0])
                    if entry[0] != fd:  # a handler listed one meanwhile
                        os.close(fd)
                entry[1] += 1  # counted before the flock: a handler's re-entry keeps it
                if _open.get(key) is entry:
                    break
                entry[1] -= 1  # closed as idle by a handler meanwhile: open it again
        try:
            # Taking the flock again through the same open file returns at once, so a
            # handler that interrupted the holder anywhere here goes on.
            fcntl.flock(entry[0], fcntl.LOCK_EX)
            yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                fcntl.flock(entry[0], fcntl.LOCK_UN)


def _close_idle() -> None:
    """Close lock files no one holds, beyond a few (a process may lock many runs); called
    with `_registry` held."""
    idle = [key for key, (_, depth) in _open.items() if depth == 0]
    for key in idle[: max(0, len(idle) - MAX_IDLE_LOCK_FILES)]:
        entry = _open.pop(key)  # delisted before closed: a handler then opens its own
        os.close(entry[0])


def update_json(path: Path, change: Any) -> Any:
    """Atomically apply `change(dict) -> None` to the JSON object at `path`; returns it."""
    mirror = mirror_for(path)
    if mirror is not None:
        with locked(path.parent):  # the threads of this process; the object store's CAS for others
            data = mirror.update(path, change)
            _replace_locally(path, dumps(data))
            return data
    with locked(path.parent):
        data = read_json(path)
        change(data)
        write_json_atomic(path, data)
        return data


def update_json_in_place(path: Path, change: Any) -> Any:
    """`update_json` for a disk with no free space left: overwrite the file in its own
    allocated blocks instead of writing a new file.

    Not atomic (a reader may meet a torn file once and report it); only for recording a run's
    end when no new file can be written. Refuses (ENOSPC) when the new text would need more
    blocks than the file already has.
    """
    if mirror_for(path) is not None:  # the object store has room: a whole write
        return update_json(path, change)
    with locked(path.parent):
        data = read_json(path)
        change(data)
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_json_default)
        encoded = raw.encode("utf-8")
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        try:
            if len(encoded) > os.fstat(fd).st_blocks * 512:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            view = memoryview(encoded)
            while view:
                view = view[os.write(fd, view) :]
            os.ftruncate(fd, len(encoded))
        finally:
            os.close(fd)
        return data


# O_NONBLOCK: opening a FIFO planted under the name fails at once instead of waiting.
_APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK


def append_text(path: Path, text: str) -> None:
    """Append `text` with a single O_APPEND write under the folder lock; never through a
    link (a planted `notes.md -> ~/.bashrc` must not be written)."""
    data = text.encode("utf-8")
    mirror = mirror_for(path)
    with locked(path.parent):
        if mirror is not None:
            mirror.append(path, data)
        try:
            fd = os.open(path, _APPEND_FLAGS, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise safe_files.RefusedFile(
                    f"{path.name} is a symbolic link: not written through it"
                ) from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise safe_files.RefusedFile(f"{path.name} is not a regular file")
            os.write(fd, data)
        finally:
            os.close(fd)


def remove(path: Path) -> None:
    """Delete a file, and its object when mirrored; absent is fine."""
    mirror = mirror_for(path)
    if mirror is not None:
        mirror.remove(path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def touch(path: Path) -> None:
    mirror = mirror_for(path)
    if mirror is not None:
        mirror.beat(path)
    try:
        os.utime(path)
    except FileNotFoundError:
        with open(path, "ab"):
            pass
