"""`store.open(root)`: the reader of a store, for the app, the CLI and notebooks.

It lists experiment and run folders, builds the runs frame from small JSON files (through a
signature-keyed cache), reads metric histories from Parquet parts on demand, and records every
file it had to skip in `problems()` instead of failing the listing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from . import paths, query, run_index
from .beats import BeatWatch, StoreClock
from .datasets.api import DatasetRegistry
from .errors import (
    AmbiguousRunError,
    ReadOnlyStoreError,
    RunNotFoundError,
    SchemaVersionError,
    StoreError,
)
from .frame import build_frame, compatible, params_series, stack
from .frame_cache import PARAMS_COL, READ_COL, SIG_COL, FrameCache
from .fsio import read_json
from .history import Verified, downsample, read_histories
from .ids import hostname, pid_alive
from .index import Signature, now_ns, stable
from .keyed import Keyed
from .notes import add_comment, change_tags
from .records import Problem, read_record, signature
from .registry.api import ModelRegistry
from .runinfo import RunInfo
from .schema import STORE_FORMAT, STORE_VERSION
from .shared import DEAD_PID_GRACE, DEFAULT_STALE_AFTER, is_shared, liveness

BUILD_CHUNK = 5_000  # runs read and turned into frame rows at a time


class Store(ModelRegistry, DatasetRegistry):
    """A store of runs under `root`. Cheap to create; `runs()` does the reading.

    The model registry's methods (`models()`, `model()`, `register_model()`, ...) come
    from `ModelRegistry`; the dataset registry's (`datasets()`, `dataset()`,
    `log_dataset_version()`, ...) from `DatasetRegistry`.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        stale_after: float = DEFAULT_STALE_AFTER,
        cache: bool = True,
    ):
        self.root = paths.local_root(root)
        self.stale_after = float(stale_after)
        # No .mmtop/ cache in a store we may not write (bundled samples, someone else's runs).
        self.use_cache = cache and not self.read_only
        if not self.root.is_dir():
            raise StoreError(f"no store at {self.root}: not a folder")
        marker = self.root / paths.STORE_MARKER
        if marker.exists():
            try:
                doc = read_json(marker)
            except (OSError, ValueError) as exc:
                raise StoreError(f"{marker}: unreadable store marker: {exc}") from None
            if not isinstance(doc, dict) or doc.get("format") != STORE_FORMAT:
                raise StoreError(f"{marker}: not an mmtop store marker")
            if not isinstance(doc.get("version"), int) or doc["version"] > STORE_VERSION:
                raise SchemaVersionError(
                    f"{marker}: store format version {doc.get('version')!r} is newer than "
                    f"this mmtop reads ({STORE_VERSION}); upgrade mmtop"
                )
        self._frames = FrameCache(self.root)
        self._base: Keyed | None = None  # the last frame built, with its signatures
        self._problems: list[Problem] = []
        self._dirs: dict[str, str] = {}  # run_id -> folder, from the last listing
        self._verified = Verified()  # parts whose sha256 this store has checked
        self._force: set[str] = set()  # run folders the run index says changed: read again
        self._listed: list[str] = []  # run folders the last listing found
        # False: list and stat every run even when the run index could vouch for them (what
        # folding the index and `mmtop compact` do, so what it vouches for is checked anew).
        self._vouched = True
        self._beats = BeatWatch(self.stale_after)  # heartbeats judged by their progress
        # Heartbeats seen once are judged by their age on the store's clock, probed in the
        # reader's cache folder (skipped by listings) when the store may be written.
        self._clock = StoreClock(paths.cache_dir(self.root), not self.read_only)

    # The `.mmtop/` cache vouches for unchanged experiment folders (store/run_index.py): a
    # warm open lists only the changed ones. Off where folders are not listed from the disk.
    vouch_cache = True

    @property
    def read_only(self) -> bool:
        return not os.access(self.root, os.W_OK)

    # ----------------------------------------------------------------- listing
    def _run_paths(self) -> list[str]:
        out: list[str] = []
        for exp in _subdirs(str(self.root), self._problems):
            if not paths.is_hidden(os.path.basename(exp)):
                out.extend(_subdirs(exp, self._problems))
        out.sort(key=lambda p: (os.path.basename(p), p))
        return out

    def _list_runs(self, experiment: str) -> list[str]:
        return _subdirs(experiment, self._problems)

    def _unread(self) -> list[str]:
        """Run folders the last listing found that gave no row (broken, or half made)."""
        have = set(self._dirs.values())
        return [run for run in self._listed if run not in have]

    def _scan(self) -> list[tuple[str, Signature]]:
        """(run folder, signature) of every readable-looking run; reports the rest."""
        self._problems = []
        out = []
        for run in self._run_paths():
            sig = signature(run)
            if sig is not None:  # None: removed between the listing and now
                out.append((run, sig))
        return out

    def _build(self, scanned: list[tuple[str, Signature]]) -> Keyed:
        """Frame rows for these runs, read from their files now, a chunk at a time.

        Chunks keep memory near one chunk's parsed JSON (a 100k-run store's records would
        take hundreds of MB at once); stacking them types the frame as one build would.
        """
        if len(scanned) <= BUILD_CHUNK:
            return self._build_rows(scanned)
        parts = [
            self._build_rows(scanned[i : i + BUILD_CHUNK])
            for i in range(0, len(scanned), BUILD_CHUNK)
        ]
        parts = [p for p in parts if p.height]
        if not parts:
            return self._build_rows([])
        agree = all(
            compatible(a.frame.schema, b.frame.schema)
            for i, a in enumerate(parts)
            for b in parts[i + 1 :]
        )
        frame = parts[0]
        for part in parts[1:]:
            stacked = stack(frame, part, check=False)
            assert stacked is not None
            frame = stacked
        if agree:
            return frame
        return _params_rebuilt(frame)

    def _build_rows(self, scanned: list[tuple[str, Signature]]) -> Keyed:
        records: list[dict[str, Any]] = []
        sigs: list[str] = []
        reads: list[int] = []
        for run, sig in scanned:
            read_ns = now_ns()
            found: list[Problem] = []
            rec = read_record(run, found)
            self._problems.extend(found)
            if rec is None:
                continue
            rec["path"] = run
            rec["status"] = str(rec["meta"].get("status", "running"))
            records.append(rec)
            sigs.append(repr(sig))
            # A run with broken files is never trusted, so it is re-read (and re-reported).
            reads.append(0 if found else read_ns)
        keyed = build_frame(records)
        params = [json.dumps(r["params"], sort_keys=True, default=str) for r in records]
        return keyed.with_frame(
            keyed.frame.with_columns(
                pl.Series(SIG_COL, sigs, dtype=pl.String),
                pl.Series(READ_COL, reads, dtype=pl.Int64),
                pl.Series(PARAMS_COL, params, dtype=pl.String),
            )
        )

    def _reusable(self, keyed: Keyed, current: dict[str, Signature]) -> Keyed:
        """Rows of `keyed` whose runs' files are provably unchanged."""
        base = keyed.frame
        force = self._force
        keep = [
            (sig := current.get(path)) is not None
            and repr(sig) == old
            and stable(sig, read)
            and path not in force
            for path, old, read in zip(
                base["path"].to_list(),
                base[SIG_COL].to_list(),
                base[READ_COL].to_list(),
                strict=True,
            )
        ]
        return keyed.with_frame(base.filter(pl.Series(keep, dtype=pl.Boolean)))

    def _liveness(
        self, run: str, host: Any, pid: Any, now: float, meta: dict[str, Any] | None = None
    ) -> tuple[str, dt.datetime | None]:
        """`running` or `crashed` for a run whose run.json says running, and its last beat.

        A shared run (docs/FORMAT.md) is judged by its writers' own heartbeats; its run.json
        is read here (the frame does not carry the writers) only when it has them.
        """
        try:
            beat = os.stat(os.path.join(run, paths.HEARTBEAT)).st_mtime
        except FileNotFoundError:
            beat = 0.0
        seen = _beat_time(beat)
        if meta is None and os.path.isdir(os.path.join(run, paths.HEARTBEATS_DIR)):
            try:
                meta = read_json(os.path.join(run, paths.RUN_JSON))
            except (OSError, ValueError):
                meta = None
        if isinstance(meta, dict) and is_shared(meta):
            return liveness(run, meta, now, self.stale_after), seen
        age = now - beat
        dead_here = host == hostname() and isinstance(pid, int) and not pid_alive(pid)
        stale = self._beats.stale(run, beat, now)
        status = "crashed" if stale or (dead_here and age > DEAD_PID_GRACE) else "running"
        return status, seen

    def _with_status(self, rec: dict[str, Any], run: Path) -> dict[str, Any]:
        out = dict(rec, status=str(rec["meta"].get("status", "running")), last_seen=None)
        if out["status"] == "running":
            meta = rec["meta"]
            out["status"], out["last_seen"] = self._liveness(
                str(run), meta.get("host"), meta.get("pid"), self.store_time(), meta
            )
        return out

    def store_time(self) -> float:
        """Now on the clock that stamps the store's heartbeats (docs/FORMAT.md, "Shared disks
        (NFS)"): measured once per `Store` by a probe file when the store may be written,
        else this machine's clock."""
        return self._clock.now()

    def _live(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Fill in liveness: running rows may be crashed; their duration runs to the last beat."""
        mask = frame["status"] == "running"
        if not mask.any():
            return frame
        now = self.store_time()
        live = frame.filter(mask).select("path", "host", "pid", "created")
        statuses: list[str] = []
        durations: list[float | None] = []
        for path, host, pid, created in live.iter_rows():
            status, seen = self._liveness(path, host, pid, now)
            statuses.append(status)
            ok = seen is not None and created is not None
            durations.append((seen - created).total_seconds() if ok else None)
        idx = frame.with_row_index("_r").filter(mask)["_r"]
        status_col = frame["status"].scatter(idx, pl.Series(statuses, dtype=pl.String))
        duration_col = frame["duration_s"].scatter(idx, pl.Series(durations, dtype=pl.Float64))
        return frame.with_columns(status_col, duration_col)

    def _frame(self) -> Keyed:
        at = run_index.mark(self.root)  # before any listing: what the rows built now vouch for
        base = self._base
        loaded = cached = None
        if base is None and self.use_cache:
            base = self._frames.load()
            if base is not None and self.vouch_cache:
                loaded = cached = run_index.from_cache(self.root, base, self._frames.meta)
        if base is None:
            loaded = run_index.load(self.root)
            base = loaded.keyed
        self._force = loaded.force if loaded is not None else set()
        scanned = None
        if base is not None and loaded is not None and self._vouched:
            self._problems = []
            scanned = run_index.scan(self.root, loaded, self._list_runs, at.folders)
        # Rewritten when it could vouch for more: a cache from before it recorded the folders,
        # or a folder changed too recently to trust, is not left to cost a listing each open.
        stale_cache = cached is not None and (
            at.folders is None or not at.folders.keys() <= run_index.trusted(cached, at.folders)
        )
        if scanned is None:
            scanned = self._scan()
        self._listed = [run for run, _ in scanned]
        keyed = base
        if base is None:
            keyed = self._build(scanned)
        else:
            kept = self._reusable(base, dict(scanned))
            known = set(kept.frame["path"].to_list())
            fresh = self._build([(run, sig) for run, sig in scanned if run not in known])
            if fresh.height == 0 and kept.height == base.height:
                keyed = base  # nothing changed: nothing to rewrite (watchers would see it)
            else:
                keyed = _in_listing_order(self._merge(base, kept, fresh))
        assert keyed is not None
        self._base = keyed
        self._force = set()
        ids, folders = keyed.frame["run_id"].to_list(), keyed.frame["path"].to_list()
        self._dirs = dict(zip(ids, folders, strict=True))
        if (keyed is not base or stale_cache) and self.use_cache:
            self._frames.save(keyed, run_index.vouching(self.root, at, self._unread()))
        return keyed.with_frame(self._live(keyed.frame.drop(SIG_COL, READ_COL, PARAMS_COL)))

    def _merge(self, base: Keyed, kept: Keyed, fresh: Keyed) -> Keyed:
        """Reused rows plus re-read ones, typed as a full build of the same runs would be.

        Stacking only widens: a field or type that only a removed (or changed) run needed
        would linger. So when runs left, or a re-read run's params changed, the params column
        is rebuilt from every row's params JSON, and keys no remaining row has are dropped.
        """
        stacked = stack(kept, fresh)
        before = dict(
            zip(base.frame["path"].to_list(), base.frame[PARAMS_COL].to_list(), strict=True)
        )
        changed = any(
            before.get(path, text) != text
            for path, text in zip(
                fresh.frame["path"].to_list(), fresh.frame[PARAMS_COL].to_list(), strict=True
            )
        )
        removed = kept.height + fresh.height < base.height or stacked is None
        if stacked is None:  # types disagree: stack anyway, the params rebuild settles them
            stacked = stack(kept, fresh, check=False)
            assert stacked is not None
        if not (changed or removed):
            return stacked
        return _params_rebuilt(stacked).without_empty_keys()

    def runs(self, where: str | None = None) -> pl.DataFrame:
        """One row per run (see docs/FORMAT.md for the columns); `where` filters with SQL."""
        return self.runs_keyed(where).structs()

    def runs_keyed(self, where: str | None = None) -> Keyed:
        """`runs()` with the metric summaries and datasets left as arrays beside their keys
        (store/keyed.py): cheap for runs with very many metric keys. `Keyed.structs()`
        makes it the frame `runs()` gives."""
        if where is None or not where.strip():
            return self._frame()
        query.parse(where)  # a bad expression fails before any disk work
        keyed = self._frame()
        # Only the keyed columns the filter names become structs (a wide run has 300k fields).
        needed = query.parse(where).meta.root_names()
        rows = query.apply(keyed.structs(only=needed).with_row_index("_row"), where)["_row"]
        return keyed.with_frame(keyed.frame[rows])

    def problems(self) -> list[Problem]:
        """Files and folders skipped by the last listing, history read or `models()`, and why."""
        return [*self._problems, *self.model_problems(), *self.dataset_problems()]

    # ----------------------------------------------------------------- one run
    def _dir_of(self, run_id: str) -> Path:
        found = self._locate([run_id])
        if run_id not in found:
            raise RunNotFoundError(f"no run with id {run_id!r} in {self.root}")
        return found[run_id]

    def _locate(self, run_ids: Iterable[str]) -> dict[str, Path]:
        """Folders of the given full run ids that exist, from the last listing when it still
        holds, else by probing `<experiment>/<id>/run.json` in each experiment folder.

        The experiment folders are listed once for all ids: a store has few experiments and
        many runs, so this costs a stat per (id, experiment), never a listing of every run.
        """
        out: dict[str, Path] = {}
        missing: list[str] = []
        for run_id in run_ids:
            known = self._dirs.get(run_id)
            if known is not None and os.path.exists(f"{known}/{paths.RUN_JSON}"):
                out[run_id] = Path(known)
            else:
                self._dirs.pop(run_id, None)  # moved or deleted since the last listing
                if _one_component(run_id):
                    missing.append(run_id)
        if not missing:
            return out
        exps = sorted(
            e for e in _subdirs(str(self.root), []) if not paths.is_hidden(os.path.basename(e))
        )
        for run_id in missing:
            for exp in exps:
                folder = Path(exp) / run_id
                # A linked run folder is not listed either: it may lead out of the store.
                if not folder.is_symlink() and (folder / paths.RUN_JSON).exists():
                    self._dirs[run_id] = str(folder)
                    out[run_id] = folder
                    break
        return out

    def resolve(self, ref: str) -> str:
        """A full run id from a full id, a unique id prefix, or `experiment/name`."""
        ref = ref.strip()
        if not ref:
            raise RunNotFoundError("empty run reference")
        if ref in self._locate([ref]):
            return ref
        if "/" in ref:
            exp, _, name = ref.partition("/")
            frame = self._frame().frame
            hits = frame.filter((pl.col("experiment") == exp) & (pl.col("name") == name))
            found = hits["run_id"].to_list()
            if len(found) == 1:
                return str(found[0])
            if len(found) > 1:
                raise AmbiguousRunError(
                    f"{ref!r} names {len(found)} runs: {', '.join(found[:10])}", found
                )
        ids = [os.path.basename(p) for p in self._run_paths()]
        matches = [i for i in ids if i.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise RunNotFoundError(f"no run matches {ref!r} in {self.root}")
        raise AmbiguousRunError(
            f"{ref!r} matches {len(matches)} runs: {', '.join(matches[:10])}"
            + (" ..." if len(matches) > 10 else ""),
            matches,
        )

    def run(self, ref: str) -> RunInfo:
        """Everything about one run, by full id, unique prefix or `experiment/name`."""
        run_id = self.resolve(ref)
        folder = self._dir_of(run_id)
        problems: list[Problem] = []
        rec = read_record(folder, problems)
        if rec is None:
            reason = problems[0].reason if problems else "run.json is missing"
            raise StoreError(f"run {run_id} cannot be read: {reason}")
        rec["path"] = str(folder)
        rec = self._with_status(rec, folder)
        info = RunInfo.from_record(rec, folder, self)
        info.problems.extend(problems)
        return info

    def fetch_runs(self, run_ids: Iterable[str]) -> None:
        """Make these runs' folders whole where they are read: nothing to do on a disk; a
        store on object storage copies them into its mirror (store/s3/reader.py)."""

    # ----------------------------------------------------------------- annotations
    def comment(self, ref: str, text: str, author: str | None = None) -> dict[str, Any]:
        """Append a comment (author defaults to user@host) to a run, live or not."""
        return add_comment(self._writable_dir(ref), text, author)

    def add_tags(self, ref: str, tags: Iterable[str]) -> list[str]:
        """Add tags to a run atomically; returns its tags."""
        folder = self._writable_dir(ref)
        out = change_tags(folder, add=_tag_list(tags))
        run_index.note(self.root, folder.name, folder.parent.name, "tags")
        return out

    def remove_tags(self, ref: str, tags: Iterable[str]) -> list[str]:
        """Remove tags from a run atomically; returns its tags."""
        folder = self._writable_dir(ref)
        out = change_tags(folder, remove=_tag_list(tags))
        run_index.note(self.root, folder.name, folder.parent.name, "tags")
        return out

    def _writable_dir(self, ref: str) -> Path:
        if self.read_only:
            raise ReadOnlyStoreError(f"the store at {self.root} is read-only")
        return self._dir_of(self.resolve(ref))

    # ----------------------------------------------------------------- histories
    def history(
        self,
        run_ids: str | Iterable[str],
        keys: Sequence[str] | str | None = None,
        max_points: int | None = None,
        system: bool = False,
    ) -> pl.DataFrame:
        """Points of the given runs (long: run_id, key, step, time, value), step-ordered."""
        ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        wanted = [keys] if isinstance(keys, str) else keys
        sub = paths.SYSTEM_DIR if system else paths.METRICS_DIR
        found = self._locate(ids)  # full ids, the usual case, without a listing per id
        folders: dict[str, Path] = {}
        for ref in ids:
            run_id = ref if ref in found else self.resolve(ref)
            folders[run_id] = self._dir_of(run_id) / sub
        df = read_histories(folders, wanted, self._problems, self._verified)
        if max_points is not None:
            return downsample(df, max_points)
        return df.sort("run_id", "key", "step", maintain_order=True)


def open(
    root: str | os.PathLike[str] | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
    cache: bool = True,
) -> Store:
    """Open the store at `root` (default $MMTOP_DIR, else ./mmruns) for reading.

    An `s3://bucket/prefix` root is read through a local mirror (store/s3/reader.py), and
    is read-only.

    `stale_after`: seconds without a heartbeat before a running run reads as crashed.
    `cache=False`: never read or write the `.mmtop/` cache (it is also off when the root
    cannot be written).
    """
    remote = paths.object_root(root if root is not None else os.environ.get(paths.ROOT_ENV))
    if remote is not None:
        from .s3.reader import S3Store  # polars and obstore only for a store on S3

        return S3Store(remote, stale_after=stale_after, cache=cache)
    return Store(
        root if root is not None else paths.default_root(), stale_after=stale_after, cache=cache
    )


def _in_listing_order(keyed: Keyed) -> Keyed:
    """Rows in the order a full listing builds them (by run folder name, then path), however
    many were re-read: which ones were depends on what the cache or the index vouched for."""
    name = pl.col("path").str.extract(r"([^/]*)$")
    return keyed.with_frame(keyed.frame.sort(name, pl.col("path"), maintain_order=True))


def _params_rebuilt(keyed: Keyed) -> Keyed:
    """The params column built again from every row's params JSON, by the documented rule."""
    params = [json.loads(text) for text in keyed.frame[PARAMS_COL].to_list()]
    return keyed.with_frame(keyed.frame.with_columns(params_series(params)))


def _beat_time(mtime: float) -> dt.datetime | None:
    """A heartbeat's mtime as a time; None when absent or beyond what datetime holds."""
    if not mtime:
        return None
    try:
        return dt.datetime.fromtimestamp(mtime, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _one_component(name: str) -> bool:
    """A name that can only be a folder inside an experiment folder (copied stores may hold
    run folders named outside the run id rule; they are found like any other)."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def _tag_list(tags: Iterable[str]) -> list[str]:
    return [tags] if isinstance(tags, str) else list(tags)


def _subdirs(folder: str, problems: list[Problem]) -> list[str]:
    try:
        with os.scandir(folder) as it:
            return [e.path for e in it if e.is_dir(follow_symlinks=False)]
    except PermissionError as exc:
        problems.append(Problem(str(folder), f"unreadable folder: {exc.strerror}"))
    except FileNotFoundError:
        pass
    except OSError as exc:
        problems.append(Problem(str(folder), f"unreadable folder: {exc}"))
    return []
