"""`store.open("s3://bucket/prefix")`: the ordinary reader over a local mirror of the store.

Every refresh lists the root and each experiment folder (one LIST each, with `/` as the
delimiter), and copies the marker, experiment descriptions, the registry, datasets and the
run index (store/s3/mirror.py). Of the runs, it copies only what it cannot take from the
index: a run the newest index snapshot holds as ended, and no newer index entry names, is a
row of that snapshot and costs no request; every other run (running, new, resumed, tagged,
or all of them when there is no index) has its record files (run.json, params, summaries,
inputs, heartbeats) copied. A run is copied whole (metric parts, tables, console, ...) when it
is opened: `run()`, `history()`.

A refresh happens when the store is opened, on `runs()` when the last one is more than
`FRESH_FOR` seconds old, and every `POLL_EVERY` seconds in the app (`poll`). The store is
read-only but for tags, comments, registry events, registrations and dataset versions,
which go to the object store (store/s3/edits.py): every other write fails with one line,
and nothing is ever written into the mirror but what the object store holds.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from .. import paths, run_index
from ..errors import ReadOnlyStoreError
from ..frame import stack
from ..frame_cache import PARAMS_COL, READ_COL, SIG_COL
from ..fsio import read_json
from ..reader import Store, _params_rebuilt
from ..schema import FINAL_STATUSES
from ..shared import DEFAULT_STALE_AFTER
from .mirror import Listing, Mirror, check_url

if TYPE_CHECKING:
    from ..datasets.version import DatasetVersion
    from ..keyed import Keyed

POLL_ENV = "MMTOP_S3_POLL"
POLL_EVERY = 5.0  # seconds between two refreshes in the app
FRESH_FOR = 1.0  # a refresh younger than this is not made again by `runs()` or `run()`


class S3Store(Store):
    """A read-only store on `s3://bucket/prefix`, read through a local mirror."""

    vouch_cache = False  # its runs are listed from the bucket, not from the mirror's folders

    def __init__(
        self,
        url: str,
        stale_after: float = DEFAULT_STALE_AFTER,
        cache: bool = True,
        mirror_cache: Path | None = None,
    ) -> None:
        self.url = check_url(url)
        self.mirror = Mirror(self.url, mirror_cache)
        self._listing = Listing()
        self._refreshed = -float("inf")
        self._refresh_lock = threading.RLock()
        self._snapshot: tuple[str, Keyed | None, set[str]] = ("", None, set())
        self._ended: set[str] | None = None  # runs whose mirrored run.json says ended
        self._whole: dict[str, float] = {}  # run -> when it was last copied whole
        self._seen: set[str] = set()  # index log entries already acted on
        self._fresh: list[str] = []  # entries the refresh under way acts on
        self._refresh()  # a bad bucket or missing credentials fail here, in one line
        super().__init__(self.mirror.tree, stale_after=stale_after, cache=cache)
        # The mirror is ours to cache in (`.mmtop/` is never copied to or from the bucket).
        self.use_cache = cache

    @property
    def read_only(self) -> bool:
        """False: tags and comments are written to the object store (store/s3/edits.py);
        other writes raise `refused()`."""
        return False

    # ----------------------------------------------------------------- refreshing
    def refresh(self) -> bool:
        """Bring the mirror up to date now; True when anything in it changed."""
        before = self.mirror.changes
        self._refresh()
        return self.mirror.changes != before

    def _refresh(self) -> None:
        with self._refresh_lock:
            listing = self.mirror.list_store()
            settled, force = self._index(listing)
            ended = self._mirrored_ended(listing.runs)
            todo = [r for r in listing.runs if r in force or not (r in settled or r in ended)]
            now = time.monotonic()
            whole = {r for r in todo if r in self._whole}
            self.mirror.sync_runs(todo, whole)
            self._seen.update(self._fresh)
            for run in whole:
                self._whole[run] = now
            self._listing = listing
            self._refreshed = now

    def _refresh_if_due(self) -> None:
        if time.monotonic() - self._refreshed >= FRESH_FOR:
            self._refresh()

    def _index(self, listing: Listing) -> tuple[set[str], set[str]]:
        """Runs the newest index snapshot holds as ended, and runs newer entries name."""
        snaps = sorted(
            (
                (int(m["upto"]), int(m["rows"]), key)
                for key in listing.index
                if (m := run_index.SNAPSHOT_RE.fullmatch(key.rpartition("/")[2]))
                and key.count("/") == 1
            ),
            reverse=True,
        )
        upto = snaps[0][0] if snaps else -1
        entries = [
            key
            for key in listing.index
            if key.startswith(f"{paths.INDEX_DIR}/log/")
            and (m := run_index.ENTRY_RE.fullmatch(key.rpartition("/")[2]))
            and int(m["ns"]) > upto
        ]
        self.mirror.fetch_index([*(s[2] for s in snaps[:1]), *entries], listing.index)
        name = f"{snaps[0][2]}:{listing.index[snaps[0][2]].etag}" if snaps else ""
        root = self.mirror.index_root
        prefix = os.path.join(str(root), "")
        if name != self._snapshot[0]:
            self._snapshot = ("", None, set())
            keyed = run_index.load(root).keyed if snaps else None
            if keyed is not None:
                frame = keyed.frame.with_columns(pl.col("path").str.slice(len(prefix)))
                frame = frame.filter(pl.col("status").is_in(list(FINAL_STATUSES)))
                self._snapshot = (name, keyed.with_frame(frame), set(frame["path"].to_list()))
        # An entry is news once: the run it names is copied again at the refresh that first
        # sees it, then judged like any other.
        fresh = [e for e in run_index.entries(root, upto) if e[0] not in self._seen]
        named = run_index.runs_named(root, fresh)
        self._fresh = [name for name, _ in fresh]
        force = {p[len(prefix) :] for p in named if p.startswith(prefix)}
        return self._snapshot[2], force

    def _mirrored_ended(self, runs: list[str]) -> set[str]:
        """Runs whose run.json in the mirror says they ended (read once per process; kept up
        to date by `_frame`)."""
        if self._ended is None:
            self._ended = set()
            for run in runs:
                try:
                    doc = read_json(self.mirror.tree / run / paths.RUN_JSON)
                except (OSError, ValueError):
                    continue
                if isinstance(doc, dict) and doc.get("status") in FINAL_STATUSES:
                    self._ended.add(run)
        return self._ended

    def poll(self, on_change: Callable[[], None], every: float | None = None) -> Poller:
        """Refresh every `every` seconds (default $MMTOP_S3_POLL, else 5) in a thread, and
        call `on_change()` after a refresh that changed the mirror."""
        return Poller(self, on_change, every if every is not None else poll_every())

    # ----------------------------------------------------------------- reading
    def _run_paths(self) -> list[str]:
        out = [str(self.mirror.tree / run) for run in self._listing.runs]
        out.sort(key=lambda p: (os.path.basename(p), p))
        return out

    def _frame(self) -> Keyed:
        with self._refresh_lock:
            self._refresh_if_due()
            local = super()._frame()
            base = self._base
            assert base is not None
            tree = os.path.join(str(self.mirror.tree), "")
            frame = base.frame
            self._ended = {
                p[len(tree) :]
                for p, s in zip(frame["path"].to_list(), frame["status"].to_list(), strict=True)
                if s in FINAL_STATUSES and p.startswith(tree)
            }
            _, rows, settled = self._snapshot
            have = {p[len(tree) :] for p in frame["path"].to_list() if p.startswith(tree)}
            listed = set(self._listing.runs)
            use = [r for r in settled if r in listed and r not in have]
            if rows is None or not use:
                return local
            extra = rows.with_frame(
                rows.frame.filter(pl.col("path").is_in(use))
                .with_columns((pl.lit(tree) + pl.col("path")).alias("path"))
                .drop(SIG_COL, READ_COL, strict=False)
            )
            mine = local.with_frame(local.frame.with_columns(base.frame[PARAMS_COL]))
            both = stack(mine, extra)
            if both is None:
                joined = stack(mine, extra, check=False)
                assert joined is not None
                both = _params_rebuilt(joined).without_empty_keys()
            ids, folders = extra.frame["run_id"].to_list(), extra.frame["path"].to_list()
            self._dirs.update(zip(ids, folders, strict=True))
            return both.with_frame(both.frame.drop(PARAMS_COL))

    def _locate(self, run_ids: Iterable[str]) -> dict[str, Path]:
        ids = list(run_ids)
        by_id = {run.partition("/")[2]: run for run in self._listing.runs}
        self._copy_whole([by_id[i] for i in ids if i in by_id])
        return super()._locate(ids)

    def fetch_runs(self, run_ids: Iterable[str]) -> None:
        wanted = set(run_ids)
        self._copy_whole([r for r in self._listing.runs if r.partition("/")[2] in wanted])

    def _copy_whole(self, runs: list[str]) -> None:
        """Copy these runs' folders whole, unless done within FRESH_FOR seconds (or ever, for
        a run that had ended then)."""
        now = time.monotonic()
        ended = self._ended or set()
        todo = [
            r
            for r in runs
            if r not in self._whole or (r not in ended and now - self._whole[r] >= FRESH_FOR)
        ]
        if not todo:
            return
        with self._refresh_lock:
            self.mirror.sync_runs(todo, todo)
            for run in todo:
                self._whole[run] = now

    # ----------------------------------------------------------------- writes
    def refused(self) -> ReadOnlyStoreError:
        """The error every write on this store raises (commands that write files themselves
        raise it too)."""
        return ReadOnlyStoreError(
            f"the store at {self.url} is opened read-only: this change cannot be written "
            "to object storage from here"
        )

    def _writable_dir(self, ref: str) -> Path:
        raise self.refused()

    def add_tags(self, ref: str, tags: Iterable[str]) -> list[str]:
        """Add tags to the run on the object store (compare-and-swap of its run.json)."""
        from . import edits

        run_id = self.resolve(ref)
        out = edits.add_tags(self.url, run_id, _tags(tags))
        self._edited(run_id)
        return out

    def remove_tags(self, ref: str, tags: Iterable[str]) -> list[str]:
        from . import edits

        run_id = self.resolve(ref)
        out = edits.remove_tags(self.url, run_id, _tags(tags))
        self._edited(run_id)
        return out

    def comment(self, ref: str, text: str, author: str | None = None) -> dict[str, Any]:
        """Append a comment to the run on the object store."""
        from . import edits

        run_id = self.resolve(ref)
        out = edits.comment(self.url, run_id, text, author)
        self._edited(run_id)
        return out

    def _edited(self, run_id: str) -> None:
        """Copy the run again now, so the next `runs()` shows the edit."""
        for run in self._listing.runs:
            if run.partition("/")[2] == run_id:
                self._whole.pop(run, None)
                self._copy_whole([run])

    def _writable(self) -> None:
        raise self.refused()

    # Registry writes: staged and pushed by store/s3/edits.py, then the mirror refreshed.
    def _model_write(self, ref: str, method: str, *args: Any, **kwargs: Any) -> Any:
        from . import edits

        out = edits.model_write(self.url, ref, method, *args, **kwargs)
        self.refresh()
        return out

    def set_alias(self, name: str, alias: str, version: int) -> dict[str, Any] | None:
        return self._model_write(name, "set_alias", name, alias, version)  # type: ignore[no-any-return]

    def remove_alias(
        self, name: str, alias: str, version: int | None = None
    ) -> dict[str, Any] | None:
        return self._model_write(name, "remove_alias", name, alias, version)  # type: ignore[no-any-return]

    def set_model_tag(self, ref: str, key: str, value: str) -> dict[str, Any] | None:
        return self._model_write(ref, "set_model_tag", ref, key, value)  # type: ignore[no-any-return]

    def set_model_description(self, ref: str, text: str) -> dict[str, Any] | None:
        return self._model_write(ref, "set_model_description", ref, text)  # type: ignore[no-any-return]

    def deprecate_model(
        self, ref: str, reason: str = "", deprecated: bool = True
    ) -> dict[str, Any] | None:
        return self._model_write(ref, "deprecate_model", ref, reason, deprecated)  # type: ignore[no-any-return]

    def deploy(self, ref: str, target: str, note: str | None = None) -> dict[str, Any] | None:
        return self._model_write(ref, "deploy", ref, target, note)  # type: ignore[no-any-return]

    def rollback(self, name: str, target: str, note: str | None = None) -> dict[str, Any]:
        return self._model_write(name, "rollback", name, target, note)  # type: ignore[no-any-return]

    def undeploy(self, name: str, target: str, note: str | None = None) -> dict[str, Any]:
        return self._model_write(name, "undeploy", name, target, note)  # type: ignore[no-any-return]

    def retire(self, ref: str, reason: str = "") -> list[dict[str, Any]]:
        return self._model_write(ref, "retire", ref, reason)  # type: ignore[no-any-return]

    def _writable_registry(self) -> None:
        """Registering is written to the object store (store/s3/edits.py)."""

    def _register(self, name: str, model: Any, **kwargs: Any) -> int:
        from . import edits

        number = edits.register(self.url, name, model, **kwargs)
        self.refresh()
        return number

    def log_dataset_version(
        self,
        name: str,
        source: Any,
        *,
        labels: str | None = None,
        parent: str | None = None,
        **kwargs: Any,
    ) -> DatasetVersion:
        """Register a dataset version on the object store (store/s3/edits.py)."""
        from . import edits

        pinned = {"labels": self.pin(labels), "parent": self.pin(parent)}
        number = edits.register_dataset(self.url, name, source, **pinned, **kwargs)
        self.refresh()
        return self._datasets.version(name, number)


class Poller:
    """The app's watcher for a store on object storage: a refresh every `every` seconds."""

    def __init__(self, st: S3Store, on_change: Callable[[], None], every: float) -> None:
        self.mode = f"polling every {every:g} s"
        self._store = st
        self._on_change = on_change
        self._every = every
        self._stopped = threading.Event()
        self.errors = 0  # refreshes that failed (the network): the next one tries again
        self._thread = threading.Thread(target=self._loop, name="mmtop-s3-poll", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        from ..errors import StoreError

        while not self._stopped.wait(self._every):
            try:
                changed = self._store.refresh()
            except StoreError:
                self.errors += 1
                continue
            if changed and not self._stopped.is_set():
                self._on_change()

    def watch_runs(self, run_folders: Iterable[str | os.PathLike[str]]) -> None:
        """Running runs are refreshed by every poll already."""

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=self._every + 60)


def _tags(tags: Iterable[str]) -> list[str]:
    return [tags] if isinstance(tags, str) else list(tags)


def poll_every(environ: dict[str, str] | None = None) -> float:
    env = os.environ if environ is None else environ
    text = env.get(POLL_ENV, "")
    try:
        value = float(text) if text else POLL_EVERY
    except ValueError:
        return POLL_EVERY
    return value if value > 0 else POLL_EVERY
