"""A run's console: what the script printed, tee'd into console.log, and read back rendered.

start() swaps sys.stdout and sys.stderr for Python-level tees: every write still goes to the
original stream (the terminal keeps working), and a copy is appended to the log. The log holds
the raw text, `\\r` progress bars included; read_console() renders it the way a terminal would.
The log is size-capped by rotation (console.log -> console.log.1 -> ...). Failing to write the
log never raises into the script: the log is given up and the terminal carries on.

Not captured: output written below Python (C extensions, subprocesses writing to fd 1/2),
bytes written to sys.stdout.buffer, and handlers that kept a reference to the original stream
before start() (a logging.StreamHandler created earlier, for instance).
"""

from __future__ import annotations

import os
import re
import stat
import sys
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from mmtop.store.safe_files import CAP_CONSOLE_TAIL, RefusedFile, open_regular

_READ_BLOCK = 1 << 16
# CSI (colours, cursor moves), OSC (titles, links) and other two-byte escapes: no width on screen.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
# Control characters other than tab, CR and backspace (which rendering interprets).
_CONTROLS = re.compile(r"[\x00-\x07\x0b-\x0c\x0e-\x1f\x7f-\x9f]")


class ConsoleCapture:
    """Tees sys.stdout and sys.stderr into `path` between start() and stop()."""

    def __init__(
        self, path: str | os.PathLike[str], max_bytes: int = 10_000_000, backups: int = 1
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be > 0, got {max_bytes!r}")
        if backups < 0:
            raise ValueError(f"backups must be >= 0, got {backups!r}")
        self.path = Path(path)
        self._log = _RotatingLog(self.path, max_bytes, backups)
        self._tees: list[tuple[str, _Tee]] = []

    @property
    def last_error(self) -> str | None:
        """Why the log stopped being written, if it did."""
        return self._log.error

    def start(self) -> None:
        if self._tees:
            raise RuntimeError("ConsoleCapture already started")
        self._log.open()
        for name in ("stdout", "stderr"):
            original = getattr(sys, name)
            if original is None:  # pythonw and some embedders have no console streams
                continue
            tee = _Tee(original, self._log)
            self._tees.append((name, tee))
            setattr(sys, name, cast(TextIO, tee))

    def stop(self) -> None:
        """Restore the original streams and close the log; idempotent."""
        for name, tee in self._tees:
            tee.detach_log()
            # Someone may have wrapped our tee since (another capture, a test runner): then
            # taking it out would drop theirs, so it stays in place as a plain pass-through.
            if getattr(sys, name) is tee:
                setattr(sys, name, tee.original)
        self._tees = []
        self._log.close()

    def __enter__(self) -> ConsoleCapture:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _RotatingLog:
    """Append-only byte log, thread-safe, flushed at line ends, rotated at max_bytes."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self.error: str | None = None
        # Reentrant: a signal handler that prints while the main thread is mid-write must not
        # deadlock on a lock its own thread holds.
        self._lock = threading.RLock()
        self._file: BinaryIO | None = None
        self._size = 0
        self._pid = os.getpid()
        _live_logs.add(self)

    def open(self) -> None:
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "ab", opener=_no_follow)
                self._size = self._file.tell()
            except OSError as exc:
                self._fail(exc)

    def write(self, text: str) -> None:
        """Never raises: on any failure the log is given up and the error remembered."""
        try:
            data = text.encode("utf-8", errors="replace")
            with self._lock:
                if self._file is None:
                    return
                while data:
                    room = self.max_bytes - self._size
                    if room <= 0 or (len(data) > room and self._size > 0):
                        if self._pid != os.getpid():
                            return  # a forked worker: file names belong to the parent
                        self._rotate()
                        room = self.max_bytes
                    chunk = data[: _utf8_cut(data, room)] if len(data) > room else data
                    self._file.write(chunk)
                    self._size += len(chunk)
                    data = data[len(chunk) :]
                if "\n" in text or "\r" in text:
                    self._file.flush()
        except Exception as exc:  # noqa: BLE001 - never break the program's own output
            self._fail(exc)

    def flush(self) -> None:
        try:
            with self._lock:
                if self._file is not None:
                    self._file.flush()
        except Exception as exc:  # noqa: BLE001 - never break the program's own output
            self._fail(exc)

    def close(self) -> None:
        with self._lock:
            handle, self._file = self._file, None
            if handle is not None:
                try:
                    handle.close()
                except Exception as exc:  # noqa: BLE001 - at exit: recorded, not raised
                    self.error = self.error or f"{type(exc).__name__}: {exc}"

    def _rotate(self) -> None:
        assert self._file is not None
        self._file.close()
        self._file = None
        if self.backups == 0:
            self.path.unlink(missing_ok=True)
        else:
            for index in range(self.backups - 1, 0, -1):
                older = _backup(self.path, index)
                if older.exists():
                    os.replace(older, _backup(self.path, index + 1))
            os.replace(self.path, _backup(self.path, 1))
        self._file = open(self.path, "ab", opener=_no_follow)
        self._size = 0

    def _fail(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            handle, self._file = self._file, None
        if handle is not None:
            try:
                handle.close()
            except Exception:  # noqa: BLE001 - at exit: nothing left to report to
                pass


_live_logs: weakref.WeakSet[_RotatingLog] = weakref.WeakSet()


def _before_fork() -> None:
    # Fork with every log flushed and its lock held, so a child (a DataLoader worker) neither
    # writes the parent's buffered text a second time nor inherits a lock held mid-write.
    for log in list(_live_logs):
        log._lock.acquire()
        try:
            if log._file is not None:
                log._file.flush()
        except Exception:  # noqa: BLE001 - at exit: no traceback on a clean exit
            pass


def _after_fork_in_parent() -> None:
    for log in list(_live_logs):
        try:
            log._lock.release()
        except RuntimeError:
            pass


def _after_fork_in_child() -> None:
    for log in list(_live_logs):
        log._lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )


class _Tee:
    """Stands in for a text stream: writes go to the original and to the log."""

    def __init__(self, original: TextIO, log: _RotatingLog) -> None:
        self.original = original
        self._log: _RotatingLog | None = log

    def detach_log(self) -> None:
        self._log = None

    def write(self, text: str) -> int:
        log = self._log
        if log is not None and isinstance(text, str):
            log.write(text)
        # The original's own errors (a closed pipe, a wrong type) reach the caller as they
        # would have without us.
        return self.original.write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        log = self._log
        if log is not None:
            log.flush()
        self.original.flush()

    def isatty(self) -> bool:
        return self.original.isatty()

    def fileno(self) -> int:
        return self.original.fileno()

    def __getattr__(self, name: str) -> Any:
        # encoding, errors, buffer, closed, ... : whatever the original offers. `original`
        # itself is only missing on a half-built copy; looking it up again would recurse.
        if name == "original":
            raise AttributeError(name)
        return getattr(self.original, name)


def _no_follow(path: str, flags: int) -> int:
    # A console.log planted as a link (to ~/.bashrc, say) or a FIFO is not written through.
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file")
    return fd


def _backup(path: Path, index: int) -> Path:
    return path.with_name(f"{path.name}.{index}")


def _utf8_cut(data: bytes, limit: int) -> int:
    """The largest cut <= limit that does not split a UTF-8 sequence (limit if none fits)."""
    cut = limit
    while cut > 0 and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return cut or limit


def read_console(
    path: str | os.PathLike[str],
    tail_lines: int | None = None,
    include_rotated: bool = True,
    root: str | os.PathLike[str] | None = None,
    max_bytes: int = CAP_CONSOLE_TAIL,
) -> list[str]:
    """The log's lines as a terminal would show them: `\\r` and backspace rewrites applied,
    colour and other escape sequences removed. The last `tail_lines` lines, or all of them.
    With include_rotated, older lines come from console.log.1, .2, ... when needed.

    At most `max_bytes` are read, from the end: a log of `\\r` progress updates with no
    newline costs that much, however large it is. Lines older than that are left out, and a
    first line says so. Only regular files are read; links only when their target is inside
    `root` (the store), and never without it.
    """
    if tail_lines is not None and tail_lines <= 0:
        return []
    files = [Path(path)]
    if include_rotated:
        index = 1
        while _backup(files[0], index).exists():
            files.append(_backup(files[0], index))
            index += 1
    raw, cut = _read_tail(files, None if tail_lines is None else tail_lines + 1, max_bytes, root)
    text = raw.decode("utf-8", errors="replace")
    if cut:
        # The window starts inside a line: up to its first \r or \n is a fragment whose
        # column is unknown. Past it, every segment starts at column 0.
        ends = [i for i in (text.find("\n"), text.find("\r")) if i >= 0]
        if ends:
            text = text[min(ends) + 1 :]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the text ended with a newline: no line after it
    if tail_lines is not None:
        lines = lines[-tail_lines:]
    shown = [render_line(line) for line in lines]
    if cut and len(lines) < (tail_lines or len(lines) + 1):
        shown.insert(0, f"[earlier output not shown: only the last {max_bytes >> 20} MiB are read]")
    return shown


def _read_tail(
    newest_first: list[Path],
    newlines: int | None,
    max_bytes: int,
    root: str | os.PathLike[str] | None,
) -> tuple[bytes, bool]:
    """Bytes from the end of the newest file backwards until `newlines` newlines are held or
    `max_bytes` are read; and whether older bytes were left unread."""
    blocks: list[bytes] = []
    held = total = 0
    for number, path in enumerate(newest_first):
        try:
            fd, size = open_regular(path, root)
        except RefusedFile:
            if number == 0:
                raise  # say why the log is not shown (a link out of the store, a FIFO)
            continue
        except OSError:
            continue  # rotated away between listing and reading, or unreadable: skip it
        try:
            position = size
            while position > 0:
                if total >= max_bytes:
                    return b"".join(reversed(blocks)), True
                step = min(_READ_BLOCK, position, max_bytes - total)
                position -= step
                block = os.pread(fd, step, position)
                blocks.append(block)
                total += len(block)
                held += block.count(b"\n")
                if newlines is not None and held >= newlines:
                    return b"".join(reversed(blocks)), False
        finally:
            os.close(fd)
        if total >= max_bytes and number + 1 < len(newest_first):
            return b"".join(reversed(blocks)), True
    return b"".join(reversed(blocks)), False


def render_line(line: str) -> str:
    """One line as a terminal leaves it: text after `\\r` overwrites from column 0."""
    line = _CONTROLS.sub("", _ESCAPES.sub("", line))
    if "\b" in line:
        return _render_cursor(line)
    if "\r" not in line:
        return line
    # The character at column i comes from the last segment longer than i.
    segments = line.split("\r")
    shown = segments[-1]
    for segment in reversed(segments[:-1]):
        if len(segment) > len(shown):
            shown += segment[len(shown) :]
    return shown


def _render_cursor(line: str) -> str:
    cells: list[str] = []
    column = 0
    for char in line:
        if char == "\r":
            column = 0
        elif char == "\b":
            column = max(0, column - 1)
        else:
            if column < len(cells):
                cells[column] = char
            else:
                cells.append(char)
            column += 1
    return "".join(cells)
