"""The run index under `<root>/_index/`: what a cold open reads instead of every run's JSON.

Writers add an entry to `_index/log/` when a run starts, finishes or has its tags changed,
and fold the entries into a snapshot of the runs frame once enough have piled up; `mmtop
compact` does the same for the whole store. A reader with no cache of its own starts from
the newest snapshot: each row carries the signature of the run's files (store/index.py), so
rows whose files changed since, and runs named by newer entries, are read again from their
files, which stay the truth. A missing, stale or damaged index only costs time.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import paths
from .fsio import read_json
from .names import RUN_ID_RE

if TYPE_CHECKING:
    from .keyed import Keyed

SNAPSHOT_RE = re.compile(r"runs-(?P<upto>[0-9]{20})-(?P<rows>[0-9]{1,12})\.parquet")
ENTRY_RE = re.compile(r"(?P<ns>[0-9]{20})-[0-9a-f]{8}\.json")
EVENTS = ("start", "finish", "tags")
# Writers fold the log into a new snapshot once it holds this many entries, and at least a
# fiftieth of the snapshot's rows, so a big store is rewritten every few thousand runs.
COMPACT_AT = 256
KEEP_SNAPSHOTS = 2  # the one a reader may have just listed stays while the next is written


@dataclass(frozen=True)
class Snapshot:
    path: Path
    upto: int  # every log entry named with a time up to this one is in the snapshot
    rows: int


def snapshots(root: Path) -> list[Snapshot]:
    """Readable-looking snapshots, newest first."""
    found = []
    for name in _names(paths.index_dir(root)):
        m = SNAPSHOT_RE.fullmatch(name)
        if m:
            found.append(Snapshot(paths.index_dir(root) / name, int(m["upto"]), int(m["rows"])))
    return sorted(found, key=lambda s: (s.upto, s.rows), reverse=True)


def note(root: Path, run_id: str, experiment: str, event: str) -> None:
    """Add a log entry; the index is optional, so a failure to write one is not an error."""
    assert event in EVENTS
    log = paths.index_log_dir(root)
    name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.json"
    data = json.dumps({"run_id": run_id, "experiment": experiment, "event": event}).encode()
    # A new name, created exclusively and filled by one small write: no temporary file and
    # rename on the training process's path. A reader that meets it half-written skips it,
    # which costs nothing (the run folders are listed anyway).
    with contextlib.suppress(OSError):
        try:
            fd = os.open(log / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileNotFoundError:
            log.mkdir(parents=True, exist_ok=True)
            fd = os.open(log / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def entries(root: Path, after: int = -1) -> list[tuple[str, int]]:
    """Log entries (name, time) named with a time after `after`, oldest first."""
    out = []
    for name in _names(paths.index_log_dir(root)):
        m = ENTRY_RE.fullmatch(name)
        if m and int(m["ns"]) > after:
            out.append((name, int(m["ns"])))
    return sorted(out)


def runs_named(root: Path, names: list[tuple[str, int]]) -> set[str]:
    """Run folders (as the reader spells them) named by these entries; bad entries are skipped:
    the folders are listed anyway."""
    out = set()
    log = paths.index_log_dir(root)
    for name, _ in names:
        try:
            doc = read_json(log / name, 64 * 1024)
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict):
            continue
        run_id, exp = doc.get("run_id"), doc.get("experiment")
        if (
            isinstance(run_id, str)
            and isinstance(exp, str)
            and RUN_ID_RE.fullmatch(run_id)
            and exp
            and "/" not in exp
            and not paths.is_hidden(exp)
        ):
            out.add(os.path.join(str(root), exp, run_id))
    return out


def load(root: Path) -> tuple[Keyed | None, set[str]]:
    """The newest readable snapshot (run folders spelled under `root`), and the run folders
    that log entries newer than it name."""
    import polars as pl

    from .frame_cache import FrameCache  # the snapshot is a runs-frame cache, moved about

    for snap in snapshots(root):
        cache = FrameCache(root)
        cache.file = snap.path
        keyed = cache.load()
        if keyed is None or "path" not in keyed.frame.columns:
            continue
        prefix = os.path.join(str(root), "")
        frame = keyed.frame.with_columns((pl.lit(prefix) + pl.col("path")).alias("path"))
        return keyed.with_frame(frame), runs_named(root, entries(root, snap.upto))
    return None, runs_named(root, entries(root))


def save(root: Path, keyed: Keyed, upto: int) -> Path | None:
    """Write `frame` (the reader's, with its signature columns) as the snapshot covering the
    log up to `upto`; then drop older snapshots and the entries it covers."""
    import polars as pl

    from .frame_cache import FrameCache

    prefix = os.path.join(str(root), "")
    frame = keyed.frame
    if not all(p.startswith(prefix) for p in frame["path"].to_list()):
        return None  # a row from elsewhere: cannot be spelled relative to the root
    rel = keyed.with_frame(frame.with_columns(pl.col("path").str.slice(len(prefix))))
    folder = paths.index_dir(root)
    target = folder / f"runs-{upto:020d}-{frame.height}.parquet"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    cache = FrameCache(root)
    cache.file = target
    cache.save(rel)
    if not target.exists():
        return None
    for old in snapshots(root)[KEEP_SNAPSHOTS:]:
        with contextlib.suppress(OSError):
            os.unlink(old.path)
    log = paths.index_log_dir(root)
    for name, ns in entries(root):
        if ns <= upto:
            with contextlib.suppress(OSError):
                os.unlink(log / name)
    return target


def rebuild(root: Path) -> Path | None:
    """A new snapshot of the whole store, every row proven current (re-read or unchanged by
    its signature); what `mmtop compact` and writers call."""
    from .reader import Store

    upto = mark(root)
    st = Store(root, cache=False)
    st.runs()
    if st._base is None:
        return None
    return save(root, st._base, upto)


def mark(root: Path) -> int:
    """The `upto` of a snapshot built from a listing that starts now: it covers every entry
    there is, whose runs' files were written before they were noted."""
    pending = entries(root)
    return max(time.time_ns(), pending[-1][1] if pending else 0)


def fold_if_due(root: Path) -> None:
    """What a writer does as a run finishes: a new snapshot when the log has grown enough.
    The index only saves time, so nothing here may fail the run."""
    from .errors import StoreError

    try:
        if not due(root):
            return
        import polars as pl  # only now: a training process need not import polars

        try:
            rebuild(root)
        except pl.exceptions.PolarsError:
            pass
    except (OSError, ValueError, StoreError):
        pass


def due(root: Path) -> bool:
    """True when the log has grown enough to fold into a new snapshot."""
    snaps = snapshots(root)
    log = entries(root, snaps[0].upto if snaps else -1)
    rows = snaps[0].rows if snaps else 0
    return len(log) >= max(COMPACT_AT, rows // 50)


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
