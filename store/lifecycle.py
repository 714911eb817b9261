"""Process-wide hooks that give every live run a proper ending.

An uncaught exception marks runs `failed` (with the traceback), Ctrl-C marks them `killed`,
SIGTERM (cluster preemption) flushes them, marks them `killed` and then lets the signal end
the process as it would have, and a normal interpreter exit finishes them.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import traceback
import weakref
from types import FrameType, TracebackType
from typing import Any, Protocol


class _Finishable(Protocol):
    def finish(self, status: str = "finished", error: dict[str, Any] | None = None) -> None: ...


_active: weakref.WeakSet[Any] = weakref.WeakSet()
_lock = threading.Lock()
_installed = False
_previous_excepthook = sys.excepthook
_previous_sigterm: Any = None


def error_info(exc: BaseException) -> dict[str, Any]:
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


def register(run: _Finishable) -> None:
    with _lock:
        _install()
        _active.add(run)


def unregister(run: _Finishable) -> None:
    with _lock:
        _active.discard(run)


def _finish_all(status: str, error: dict[str, Any] | None = None) -> None:
    for run in list(_active):
        try:
            run.finish(status, error)
        except Exception as exc:  # noqa: BLE001 - an ending must not hide the original failure
            print(f"mmtop store: could not finish a run: {exc}", file=sys.stderr)


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    status = "killed" if isinstance(exc, KeyboardInterrupt) else "failed"
    _finish_all(status, error_info(exc))
    _previous_excepthook(kind, exc, tb)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _finish_all("killed", {"type": "SIGTERM", "message": "terminated by SIGTERM", "traceback": ""})
    signal.signal(signal.SIGTERM, _previous_sigterm or signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _at_exit() -> None:
    _finish_all("finished")


def _install() -> None:
    global _installed, _previous_excepthook, _previous_sigterm
    if _installed:
        return
    _installed = True
    atexit.register(_at_exit)
    _previous_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    # Only take SIGTERM when nobody else has: a framework's own handler stays in charge.
    if threading.current_thread() is threading.main_thread():
        current = signal.getsignal(signal.SIGTERM)
        if current in (signal.SIG_DFL, None):
            _previous_sigterm = current
            signal.signal(signal.SIGTERM, _on_sigterm)
