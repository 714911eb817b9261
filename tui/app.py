"""The mmtop Textual app: one store reader, one watcher, the runs screen on top.

Kept thin: screens own their widgets and workers; the app owns what lives as long as the
process (the store, the watcher, the clock) and the command palette's list of actions.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from mmtop.store.errors import first_line
from mmtop.tui.launch import Launch, resolve
from mmtop.tui.messages import LiveTick, StoreChanged
from mmtop.tui.safe_text import clean
from mmtop.tui.workers import DetachedExecutor, WorkerFailed, busy_workers

if TYPE_CHECKING:
    from mmtop.store import Store, Watcher
    from mmtop.store.s3.reader import Poller


# Heartbeats go stale without any file event: screens showing a live run read it again.
LIVE_RELOAD_EVERY = 2.0


class MmtopApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "mmtop"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
    ]
    # Wide terminals get the preview beside the table; narrow ones get it underneath.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]
    # Short terminals (80x24) get a smaller preview so the table keeps most of the rows.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def __init__(
        self,
        launch: Launch,
        *,
        now: Callable[[], datetime] | None = None,
        watch: bool = True,
        stale_after: float | None = None,
    ) -> None:
        super().__init__()
        self.launch = launch
        self.now = now or (lambda: datetime.now(UTC))
        self.read_only = launch.read_only
        # run_id -> colour (tui/run_colours.py), set by the runs screen on every load.
        self.run_colours: dict[str, str] = {}
        self.watch_mode = "off"
        self._want_watch = watch
        self._stale_after = stale_after
        self._store: Store | None = None
        self._store_lock = threading.Lock()
        self.watcher: Watcher | Poller | None = None
        # run_id -> the status last read by any screen (saw_statuses).
        self.statuses: dict[str, str] = {}

    # -- the store (called from worker threads) -----------------------------------------

    def get_store(self) -> Store:
        """The reader, opened on first use; raises store.StoreError when there is none."""
        from mmtop import store

        with self._store_lock:
            if self._store is None:
                options: dict[str, Any] = {"cache": not self.launch.read_only}
                if self._stale_after is not None:
                    options["stale_after"] = self._stale_after
                self._store = store.open(self.launch.root, **options)
                self.read_only = self.read_only or bool(self._store.read_only)
                if self._want_watch and self.watcher is None:
                    self.watcher = store.watch(self._store, self._notify_screens)
                    self.watch_mode = str(self.watcher.mode)
            return self._store

    def watch_live(self, folders: Iterable[str]) -> None:
        """Ask the watcher to follow these run folders closely (the running ones)."""
        if self.watcher is not None:
            self.watcher.watch_runs(list(folders))
            self.watch_mode = str(self.watcher.mode)

    def _notify_screens(self, but: object = None) -> None:
        # Watcher thread: post_message is thread-safe; every screen that cares reloads.
        # (Not named `_on_store_changed`: Textual would make that a handler of the message,
        # and each message bubbling up to the app would post new ones, forever.)
        for screen in list(self.screen_stack):
            if screen is not but:
                screen.post_message(StoreChanged())

    def saw_statuses(self, seen: Mapping[str, str], by: object) -> None:
        """Run statuses a screen has just read. When one moved on (a run died or ended)
        every other screen reads again at once: the runs table under a detail screen
        that found a run crashed is crashed too, not at its next read after `esc`."""
        known = self.statuses
        moved = any(known.get(run_id, status) != status for run_id, status in seen.items())
        known.update(seen)
        if moved:
            self._notify_screens(but=by)

    def _live_tick(self) -> None:
        for screen in list(self.screen_stack):
            screen.post_message(LiveTick())

    # -- screens and actions --------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        from mmtop.tui.screens.runs import RunsScreen

        return RunsScreen()

    def on_load(self) -> None:
        # Before any screen starts a worker: `q` must not wait for a read to finish.
        asyncio.get_running_loop().set_default_executor(DetachedExecutor())

    def on_mount(self) -> None:
        # One clock for every screen's live reads, so no screen looks on its own schedule.
        self.set_interval(LIVE_RELOAD_EVERY, self._live_tick)
        where = str(self.launch.root)
        self.sub_title = f"{where} (read-only sample)" if self.launch.source == "sample" else where

    def action_help(self) -> None:
        screen = self.screen
        show = getattr(screen, "action_show_help", None)
        if callable(show):
            show()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        provided = getattr(screen, "palette_commands", None)
        if callable(provided):
            for title, help_text, callback in provided():
                # The palette parses titles as markup; ours hold run-logged key names.
                yield SystemCommand(_literal(title), _literal(help_text), callback)
        yield SystemCommand("app: help", "List the keys of this screen", self.action_help)
        yield SystemCommand("app: quit", "Quit mmtop", self.exit)
        for command in super().get_system_commands(screen):
            if command.title.lower() not in ("quit", "keys"):
                yield command

    def on_worker_failed(self, event: WorkerFailed) -> None:
        """The one handler of failed workers (see tui/workers.py): the error is shown, the app
        stays up, and the screen keeps what it showed before."""
        worker = event.worker
        what = worker.group if worker.group != "default" else worker.name
        error = worker.error if worker.error is not None else RuntimeError("unknown error")
        message = f"{what} failed: {type(error).__name__}: {first_line(error)}"
        self.notify(clean(message, single_line=True), severity="error", markup=False, timeout=15)

    def on_unmount(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()


def _literal(text: str) -> str:
    """Markup that shows `text` as typed: untrusted keys like `acc[/]` must not break it."""
    from textual.markup import escape

    return escape(clean(text, single_line=True))


def run_app(path: str | None) -> int:
    """Entry point for `mmtop [PATH]`; returns the process exit code."""
    app = MmtopApp(resolve(path))
    app.run()
    code = int(app.return_code or 0)
    if _busy_threads() or busy_workers():
        # A store read in a thread worker cannot be interrupted, and Python waits for such
        # threads before it exits: after `q` during a long load the terminal would hang
        # until the read ends. Nothing is lost by not waiting: the reader only writes its
        # cache, under a temporary name renamed when whole.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _busy_threads() -> list[threading.Thread]:
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]
