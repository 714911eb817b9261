"""Failed workers end up in one place: the app's handler of `WorkerFailed`.

Every worker runs with `exit_on_error=False`, so an error nobody foresaw in a load cannot end
the app. Textual tells only the worker's own node (`Worker.StateChanged` does not bubble);
screens and widgets that start workers mix in `ReportsFailedWorkers`, which forwards the
failure to the app, where `MmtopApp.on_worker_failed` shows it.

Thread workers run on `DetachedExecutor`: a store read cannot be interrupted, and the
standard executor makes the event loop's shutdown (so `q`) wait until the read is over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from textual.message import Message
from textual.worker import Worker, WorkerState


class WorkerFailed(Message):
    def __init__(self, worker: Worker[object]) -> None:
        super().__init__()
        self.worker = worker


class ReportsFailedWorkers:
    """Mixin for a screen or widget that starts workers."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.app.post_message(WorkerFailed(event.worker))  # type: ignore[attr-defined]


T = TypeVar("T")
THREAD_PREFIX = "mmtop-worker"


class DetachedExecutor(ThreadPoolExecutor):
    """Runs each job on its own daemon thread, and never waits for one at shutdown.

    Set as the event loop's default executor (which must be a ThreadPoolExecutor), so
    Textual's thread workers use it. Leaving a read behind loses nothing: the reader only
    writes its cache, under a temporary name renamed when whole; `run_app` then ends the
    process without waiting for it either.
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever awaits the job
                future.set_exception(exc)

        threading.Thread(target=run, name=THREAD_PREFIX, daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return  # see the class docstring: a read left running is not waited for


def busy_workers() -> list[threading.Thread]:
    """Worker threads still running (reads the app no longer waits for)."""
    return [t for t in threading.enumerate() if t.name == THREAD_PREFIX and t.is_alive()]
