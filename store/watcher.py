"""Telling the app that something under the store changed (never what: the reader works that out).

Native events (watchdog: inotify, FSEvents, ...) watch only the root, the experiment folders
and the folders of runs the caller marks live, so a 100k-run store costs a few hundred
watches, not 300k. Where native events are unavailable or their limit is hit, a polling thread
compares the mtimes of the same folders. Bursts of events are coalesced: `on_change` is called
at most once per `debounce` seconds.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import paths

if TYPE_CHECKING:
    from .reader import Store
    from .s3.reader import Poller

Mode = str  # "events" or "polling"


class Watcher:
    def __init__(
        self,
        root: str | os.PathLike[str],
        on_change: Callable[[], None],
        debounce: float = 0.25,
        poll_every: float = 1.0,
        force_polling: bool = False,
    ) -> None:
        self.root = paths.local_root(root)
        self._on_change = on_change
        self._debounce = debounce
        self._poll_every = poll_every
        self._lock = threading.Lock()
        self._pending = threading.Event()
        self._stopped = threading.Event()
        self._live: set[Path] = set()
        self._observer: Any = None
        self._watches: dict[Path, tuple[Any, tuple[int, int]]] = {}  # watch, (dev, inode)
        self.mode: Mode = "polling"
        if not force_polling and os.environ.get("MMTOP_POLLING") != "1":
            self._start_events()
        self._mtimes = self._snapshot()
        self._thread = threading.Thread(target=self._loop, name="mmtop-watch", daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------- folders
    def _folders(self) -> list[Path]:
        folders = [self.root]
        try:
            with os.scandir(self.root) as it:
                folders += [
                    Path(e.path)
                    for e in it
                    if e.is_dir(follow_symlinks=False) and not paths.is_hidden(e.name)
                ]
        except OSError:
            pass
        for run in self._live:
            folders += [run, run / paths.SUMMARY_DIR]
        return folders + self._registry_folders() + self._dataset_folders()

    def _registry_folders(self) -> list[Path]:
        """`_models/`, each model folder and its events: every visible registry change (a
        committed version, an alias move) ends with a new file in an events folder; and the
        prediction and label folders of each deployment target (a flushed part)."""
        from .registry.layout import EVENTS_DIR

        registry = self.root / paths.MODELS_DIR
        models = _visible_subfolders(registry)
        if models is None:
            return []
        out = [registry]
        for model in models:
            out += [model, model / EVENTS_DIR, *_monitoring_folders(model)]
        return out

    def _dataset_folders(self) -> list[Path]:
        """`_datasets/`, each dataset and its `versions/` folder, whose mtime a registration
        moves once the new version's manifest exists (datasets/register.py)."""
        registry = self.root / paths.DATASETS_DIR
        names = _visible_subfolders(registry)
        if names is None:
            return []
        out = [registry]
        for name in names:
            out += [name, name / "versions"]
        return out

    def watch_runs(self, run_folders: Iterable[str | os.PathLike[str]]) -> None:
        """Watch these run folders closely (the live ones); others are seen via listings."""
        with self._lock:
            self._live = {Path(p) for p in run_folders}
        if self.mode == "events":
            self._sync_watches()

    def _ignored(self, path: str | bytes) -> bool:
        """Caches, locks and temporary files (any dot-name): not news."""
        text = os.fsdecode(path)
        rel = os.path.relpath(text, self.root)
        parts = rel.split(os.sep)
        hidden = paths.is_hidden(parts[0]) and parts[0] not in (
            paths.MODELS_DIR,
            paths.DATASETS_DIR,
        )
        return hidden or any(p.startswith(".") for p in parts)

    # ----------------------------------------------------------------- events
    def _start_events(self) -> None:
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:
            return
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                targets = [event.src_path, getattr(event, "dest_path", "")]
                if all(watcher._ignored(t) for t in targets if t):
                    return
                watcher._pending.set()

        self._handler = Handler()
        try:
            self._observer = Observer()
            self._observer.start()
            self.mode = "events"
            self._sync_watches()
        except OSError:
            self._fall_back()

    def _sync_watches(self) -> bool:
        """Watch the wanted folders; True when a watched folder went away or was replaced.

        A folder removed and made again under the same name (the root, say) is a new inode
        whose old watch is dead: it is dropped and the new folder watched.
        """
        if self._observer is None:
            return False
        wanted = {p: ident for p in self._folders() if (ident := _identity(p)) is not None}
        replaced = False
        try:
            for folder, (watch, ident) in list(self._watches.items()):
                if wanted.get(folder) != ident:
                    replaced = True
                    del self._watches[folder]
                    with contextlib.suppress(KeyError, OSError):  # its emitter may be gone
                        self._observer.unschedule(watch)
            for folder, ident in wanted.items():
                if folder not in self._watches:
                    watch = self._observer.schedule(self._handler, str(folder), recursive=False)
                    self._watches[folder] = (watch, ident)
        except OSError:
            self._fall_back()  # inotify watch limit, or a folder vanished mid-way
        return replaced

    def _root_replaced(self) -> bool:
        """The root is no longer the folder being watched: removed, or removed and made again.

        Checked on every quiet interval, since a dead watch on the root reports nothing."""
        watched = self._watches.get(self.root)
        return _identity(self.root) != (watched[1] if watched else None)

    def _fall_back(self) -> None:
        if self._observer is not None:
            try:
                self._observer.stop()
            except Exception:  # noqa: BLE001 - already failing over to polling
                pass
        self._observer = None
        self._watches = {}
        self.mode = "polling"

    # ----------------------------------------------------------------- polling
    def _snapshot(self) -> dict[Path, int]:
        out: dict[Path, int] = {}
        for folder in self._folders():
            try:
                out[folder] = os.stat(folder).st_mtime_ns
            except OSError:
                continue
        return out

    def _loop(self) -> None:
        while not self._stopped.is_set():
            if self.mode == "events":
                fired = self._pending.wait(self._poll_every)
                if self._stopped.is_set():
                    break
                if fired:
                    self._stopped.wait(self._debounce)  # let the burst settle
                    self._pending.clear()
                    self._sync_watches()
                    self._fire()
                elif self._root_replaced():
                    self._sync_watches()
                    self._fire()
            else:
                self._stopped.wait(self._poll_every)
                now = self._snapshot()
                if now != self._mtimes:
                    self._mtimes = now
                    self._fire()

    def _fire(self) -> None:
        if not self._stopped.is_set():
            try:
                self._on_change()
            except Exception:  # noqa: BLE001 - a bad callback must not kill the watcher
                pass

    def stop(self) -> None:
        self._stopped.set()
        self._pending.set()
        if self._observer is not None:
            try:
                self._observer.stop()
                self._observer.join(timeout=2)
            except Exception:  # noqa: BLE001 - a broken observer must not block exit
                pass
        self._thread.join(timeout=2)


def _identity(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of a folder, None when it is not one (now)."""
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


def watch(
    root: str | os.PathLike[str] | Store, on_change: Callable[[], None], **options: Any
) -> Watcher | Poller:
    """Call `on_change()` (from a background thread) when something in the store changes.

    `root` may be an open store: one on object storage is polled (store/s3/reader.py),
    every `poll_every` seconds when given."""
    from .reader import Store

    if isinstance(root, Store):
        poll = getattr(root, "poll", None)
        if callable(poll):
            return poll(on_change, options.get("poll_every"))  # type: ignore[no-any-return]
        root = root.root
    remote = paths.object_root(root)
    if remote is not None:
        from .s3.reader import S3Store

        return S3Store(remote).poll(on_change, options.get("poll_every"))
    return Watcher(root, on_change, **options)


def _monitoring_folders(model: Path) -> list[Path]:
    """`monitoring/`, each target in it, and their predictions/ and labels/ folders."""
    from .monitoring.layout import LABELS_DIR, MONITORING_DIR, PREDICTIONS_DIR

    folder = model / MONITORING_DIR
    try:
        with os.scandir(folder) as it:
            targets = [Path(e.path) for e in it if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    out = [folder]
    for target in targets:
        out += [target, target / PREDICTIONS_DIR, target / LABELS_DIR]
    return out


def _visible_subfolders(folder: Path) -> list[Path] | None:
    """The folders directly in `folder` whose names do not start with `.` (links not
    followed); None when `folder` cannot be listed."""
    try:
        with os.scandir(folder) as it:
            return [
                Path(e.path)
                for e in it
                if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
            ]
    except OSError:
        return None
