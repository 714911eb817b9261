"""Failed workers end up in one place: the app's handler of `WorkerFailed`.

Every worker runs with `exit_on_error=False`, so an error nobody foresaw in a load cannot end
the app. Textual tells only the worker's own node (`Worker.StateChanged` does not bubble);
screens and widgets that start workers mix in `ReportsFailedWorkers`, which forwards the
failure to the app, where `MmtopApp.on_worker_failed` shows it.
"""

from __future__ import annotations

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
