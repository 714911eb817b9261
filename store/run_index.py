"""The run index under `<root>/_index/`: what a cold open reads instead of every run's JSON.

Writers add an entry to `_index/log/` when a run starts, finishes or has its tags changed,
and fold the entries into a snapshot of the runs frame once enough have piled up; `mmtop
compact` does the same for the whole store. A reader with no cache of its own starts from
the newest snapshot: each row carries the signature of the run's files (store/index.py), so
rows whose files changed since, and runs named by newer entries, are read again from their
files, which stay the truth. A missing, stale or damaged index only costs time.

The snapshot also records each experiment folder's mtime as it was before the folders were
listed. Creating, removing or renaming a run folder changes its experiment folder's mtime, so
where that mtime is unchanged (and was old enough to trust: store/index.py) the snapshot's
rows are exactly the run folders there, and the reader need not list them (`scan`). The
reader's own cache (`.mmtop/`) records the same in its metadata, so a warm open takes the
same shortcut (`from_cache`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import index, paths, records
from .fsio import read_json
from .index import Signature
from .names import RUN_ID_RE
from .schema import FINAL_STATUSES

if TYPE_CHECKING:
    from .keyed import Keyed

# The layout version is in the name: a reader never pays for opening a snapshot it cannot
# use; snapshots in other layouts are ignored, and removed when a new one is written.
LAYOUT = 2
SNAPSHOT_RE = re.compile(rf"runs-v{LAYOUT}-(?P<upto>[0-9]{{20}})-(?P<rows>[0-9]{{1,12}})\.parquet")
ANY_SNAPSHOT_RE = re.compile(r"runs-(?:v[0-9]{1,6}-)?[0-9]{20}-[0-9]{1,12}\.parquet")
FOLDERS_KEY = "mmtop.index.folders"  # {experiment folder: mtime_ns before it was listed}
LISTED_KEY = "mmtop.index.listed_ns"  # when that listing began
UNREAD_KEY = "mmtop.index.unread"  # run folders listed that gave no row (broken, half made)
UPTO_KEY = "mmtop.index.upto"  # the reader's cache: log entries up to this are in its rows
ENTRY_RE = re.compile(r"(?P<ns>[0-9]{20})-[0-9a-f]{8}\.json")
EVENTS = ("start", "finish", "tags")
# Writers fold the log into a new snapshot once it holds this many entries, and at least a
# fiftieth of the snapshot's rows, so a big store is rewritten every few thousand runs.
COMPACT_AT = 256
CLAIM = "folding.json"  # the writer folding the log now (see `claim`)
CLAIM_STALE_AFTER = 600.0  # seconds: a fold of 100k runs takes a minute or two
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


@dataclass
class Loaded:
    """The newest readable snapshot, as `load` found it."""

    keyed: Keyed | None  # its rows, run folders spelled under the root; None: no snapshot
    force: set[str]  # run folders that log entries newer than it name
    folders: dict[str, int] = field(default_factory=dict)  # experiment folder -> ctime_ns
    listed_ns: int = 0  # when the listing it was built from began
    unread: list[str] = field(default_factory=list)  # run folders listed that gave no row


def load(root: Path) -> Loaded:
    """The newest readable snapshot (run folders spelled under `root`), and the run folders
    that log entries newer than it name."""
    import polars as pl

    from .frame_cache import FrameCache  # the snapshot is a runs-frame cache, moved about

    prefix = os.path.join(str(root), "")
    for snap in snapshots(root):
        cache = FrameCache(root)
        cache.file = snap.path
        keyed = cache.load()
        if keyed is None or "path" not in keyed.frame.columns:
            continue
        frame = keyed.frame.with_columns((pl.lit(prefix) + pl.col("path")).alias("path"))
        return _loaded(root, keyed.with_frame(frame), cache.meta, snap.upto)
    return Loaded(None, runs_named(root, entries(root)))


def from_cache(root: Path, keyed: Keyed, meta: dict[str, str]) -> Loaded:
    """What the reader's own cache (rows and their Parquet metadata, as `vouching` wrote it)
    vouches for, as `load` gives it for a snapshot.

    Folding deletes the log entries a new snapshot covers: once a snapshot covers entries
    newer than the cache's, runs they named may have changed unseen, so the cache vouches
    for no experiment folder (every run is checked in full, once: the cache is then written
    anew)."""
    import polars as pl

    prefix = os.path.join(str(root), "")
    try:
        upto = int(meta[UPTO_KEY])
    except (KeyError, ValueError):
        return Loaded(keyed, set())  # a cache written before it recorded this
    snaps = snapshots(root)
    under = bool(keyed.frame.select(pl.col("path").str.starts_with(prefix).all()).item())
    if (snaps and snaps[0].upto > upto) or not under:
        return Loaded(keyed, set())  # (not under: the store was moved with its cache)
    return _loaded(root, keyed, meta, upto)


def _loaded(root: Path, keyed: Keyed, meta: dict[str, str], upto: int) -> Loaded:
    prefix = os.path.join(str(root), "")
    force = runs_named(root, entries(root, upto))
    try:
        folders, listed, unread = _vouched(meta)
    except (ValueError, TypeError):
        return Loaded(keyed, force)  # rows still usable; list it all
    return Loaded(keyed, force, folders, listed, [prefix + p for p in unread])


def vouching(root: Path, at: Mark, unread: Iterable[str]) -> dict[str, str]:
    """Parquet metadata of rows built from a listing that began at `at`: what `load` and
    `from_cache` read back."""
    prefix = os.path.join(str(root), "")
    return {
        FOLDERS_KEY: json.dumps(at.folders if at.folders is not None else {}),
        LISTED_KEY: str(at.listed_ns),
        UNREAD_KEY: json.dumps(sorted(p[len(prefix) :] for p in unread if p.startswith(prefix))),
        UPTO_KEY: str(at.upto),
    }


def _vouched(meta: dict[str, str]) -> tuple[dict[str, int], int, list[str]]:
    folders = json.loads(meta[FOLDERS_KEY]) if FOLDERS_KEY in meta else {}
    listed = int(meta.get(LISTED_KEY, "0"))
    unread = json.loads(meta[UNREAD_KEY]) if UNREAD_KEY in meta else []
    if not (
        isinstance(folders, dict)
        and all(isinstance(v, int) and _plain(k) for k, v in folders.items())
        and isinstance(unread, list)
        and all(
            isinstance(p, str)
            and p.count("/") == 1
            and _plain(p.partition("/")[0])
            and _plain(p.partition("/")[2])
            for p in unread
        )
    ):
        raise ValueError("bad snapshot metadata")
    return folders, listed, unread


def _plain(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def experiment_folders(root: Path) -> dict[str, int] | None:
    """ctime_ns of each experiment folder (a ctime cannot be set back, unlike an mtime, and
    also moves when the folder's permissions change); None if the root cannot be listed."""
    out = {}
    try:
        with os.scandir(root) as it:
            for e in it:
                if paths.is_hidden(e.name) or not e.is_dir(follow_symlinks=False):
                    continue
                with contextlib.suppress(OSError):
                    out[e.name] = e.stat(follow_symlinks=False).st_ctime_ns
    except OSError:
        return None
    return out


def trusted(loaded: Loaded, current: dict[str, int]) -> set[str]:
    """Experiment folders (of `current`, their ctimes now) whose run folders are exactly the
    rows' and unread ones of `loaded`: their ctime is the one recorded, and was old enough
    when that listing began to be sure a later change would have moved it."""
    cutoff = loaded.listed_ns - index.RACY_NS
    return {name for name, ns in current.items() if loaded.folders.get(name) == ns and ns < cutoff}


def scan(
    root: Path,
    loaded: Loaded,
    list_folder: Callable[[str], list[str]],
    current: dict[str, int] | None,
) -> list[tuple[str, Signature]] | None:
    """(run folder, signature) of every run, as the reader's listing and `signature` would
    give them, stating only what `loaded` (a snapshot, or the reader's cache) cannot vouch
    for; `current`: the experiment folders' ctimes now (`mark`), None when the root cannot be
    listed (the reader then lists as usual, and reports why, as it does for a None here).

    An experiment folder whose ctime is what the snapshot recorded holds the snapshot's run
    folders, so it is not listed. A run the snapshot saw ended, stable and not named in the
    log since is checked by its folder and its `run.json` (people edit that by hand, in
    place): its summaries are written only while `run.json` says running, or by a writer
    that resumes it, which changes `run.json` and notes it in the log.
    """
    from .frame_cache import READ_COL, SIG_COL

    assert loaded.keyed is not None
    if current is None:
        return None
    vouched = trusted(loaded, current)
    prefix = os.path.join(str(root), "")
    out: list[tuple[str, Signature]] = []
    frame = loaded.keyed.frame
    force = loaded.force
    rows = zip(
        frame["path"].to_list(),
        frame["status"].to_list(),
        frame[SIG_COL].to_list(),
        frame[READ_COL].to_list(),
        strict=True,
    )
    for path, status, old, read in rows:
        if path[len(prefix) :].partition("/")[0] not in vouched:
            continue
        sig = _recheck(path, old, read) if status in FINAL_STATUSES and path not in force else None
        if sig is None:
            sig = records.signature(path)
        if sig is not None:
            out.append((path, sig))
    for path in loaded.unread:
        if path[len(prefix) :].partition("/")[0] in vouched and (sig := records.signature(path)):
            out.append((path, sig))
    for name in sorted(current.keys() - vouched):
        for run in list_folder(os.path.join(str(root), name)):
            if (sig := records.signature(run)) is not None:
                out.append((run, sig))
    return out


def _recheck(path: str, old: str, read: int) -> Signature | None:
    """The signature of a run the snapshot vouches for, from two stats: its folder and its
    run.json, the summary folder's mtime taken from the snapshot. None: check it all."""
    try:
        sig = tuple(int(x) for x in old[1:-1].split(", "))
    except ValueError:
        return None
    if len(sig) != 3 or not index.stable(sig, read):
        return None
    try:
        folder = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None
    try:
        meta = os.stat(f"{path}/{paths.RUN_JSON}").st_mtime_ns
    except FileNotFoundError:
        meta = 0
    return (folder, meta, sig[2])


def save(root: Path, keyed: Keyed, at: Mark, unread: Iterable[str] = ()) -> Path | None:
    """Write `frame` (the reader's, with its signature columns) as the snapshot covering the
    log up to `at.upto`, with the experiment folders as they were before the listing it was
    built from; then drop older snapshots and the entries it covers."""
    import polars as pl

    from .frame_cache import FrameCache

    prefix = os.path.join(str(root), "")
    frame = keyed.frame
    if not all(p.startswith(prefix) for p in frame["path"].to_list()):
        return None  # a row from elsewhere: cannot be spelled relative to the root
    rel = keyed.with_frame(frame.with_columns(pl.col("path").str.slice(len(prefix))))
    folder = paths.index_dir(root)
    target = folder / f"runs-v{LAYOUT}-{at.upto:020d}-{frame.height}.parquet"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    cache = FrameCache(root)
    cache.file = target
    cache.save(rel, vouching(root, at, unread))
    if not target.exists():
        return None
    stale = [s.path.name for s in snapshots(root)[KEEP_SNAPSHOTS:]]
    stale += [
        n for n in _names(folder) if ANY_SNAPSHOT_RE.fullmatch(n) and not SNAPSHOT_RE.fullmatch(n)
    ]
    for name in stale:
        with contextlib.suppress(OSError):
            os.unlink(folder / name)
    log = paths.index_log_dir(root)
    for name, ns in entries(root):
        if ns <= at.upto:
            with contextlib.suppress(OSError):
                os.unlink(log / name)
    return target


def rebuild(root: Path) -> Path | None:
    """A new snapshot of the whole store, every row proven current (re-read or unchanged by
    its signature); what `mmtop compact` and writers call."""
    from .reader import Store

    at = mark(root)
    st = Store(root, cache=False)
    st._vouched = False
    st.runs()
    if st._base is None:
        return None
    return save(root, st._base, at, st._unread())


@dataclass(frozen=True)
class Mark:
    """What a snapshot built from a listing that starts now can vouch for."""

    upto: int  # it covers every log entry there is: their runs' files were written first
    listed_ns: int
    folders: dict[str, int] | None  # experiment folders' ctimes before the listing


def mark(root: Path) -> Mark:
    pending = entries(root)
    listed = time.time_ns()
    folders = experiment_folders(root)
    return Mark(max(listed, pending[-1][1] if pending else 0), listed, folders)


def fold_if_due(root: Path) -> None:
    """What a writer does as a run finishes: a new snapshot when the log has grown enough.
    The index only saves time, so nothing here may fail the run."""
    from .errors import StoreError

    try:
        if not due(root):
            return
        token = claim(root)
        if token is None:
            return  # another writer is folding the same entries now
        import polars as pl  # only now: a training process need not import polars

        try:
            rebuild(root)
        except pl.exceptions.PolarsError:
            pass
        finally:
            release(root, token)
    except (OSError, ValueError, StoreError):
        pass


def claim(root: Path) -> str | None:
    """Claim the next fold for this writer: a token, or None while another writer's claim
    holds. Two writers finishing at once would both fold, which is safe but wasted work.

    The claim is a create-once file; one older than `CLAIM_STALE_AFTER` on the store's clock
    (its writer died or hangs) is taken over. Two writers taking one over at the same moment
    may both fold: again only wasted work.
    """
    from .beats import StoreClock
    from .fsio import create_json_exclusive, remove

    path = paths.index_dir(root) / CLAIM
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    doc = {"pid": os.getpid(), "token": token}
    if create_json_exclusive(path, doc):
        return token
    try:
        age = StoreClock(paths.cache_dir(root), True).now() - os.stat(path).st_mtime
    except OSError:
        return None
    if age < CLAIM_STALE_AFTER:
        return None
    remove(path)
    return token if create_json_exclusive(path, doc) else None


def release(root: Path, token: str) -> None:
    """Remove this writer's claim (not one that took it over meanwhile)."""
    from .fsio import remove

    path = paths.index_dir(root) / CLAIM
    with contextlib.suppress(OSError, ValueError):
        doc = read_json(path, 4096)
        if isinstance(doc, dict) and doc.get("token") == token:
            remove(path)


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
