"""`store.open(root)`: the reader of a store, for the app, the CLI and notebooks.

It lists experiment and run folders, builds the runs frame from small JSON files (through a
signature-keyed cache), reads metric histories from Parquet parts on demand, and records every
file it had to skip in `problems()` instead of failing the listing.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from . import paths, query
from .errors import AmbiguousRunError, RunNotFoundError, SchemaVersionError, StoreError
from .frame import build_frame
from .fsio import read_json
from .history import downsample, read_histories
from .ids import hostname, pid_alive
from .index import RecordCache
from .records import Problem, read_record, signature
from .runinfo import RunInfo
from .schema import STORE_FORMAT, STORE_VERSION

DEFAULT_STALE_AFTER = 30.0
# A same-host writer whose process is gone is crashed as soon as its heartbeat misses a beat.
DEAD_PID_GRACE = 3.0


class Store:
    """A store of runs under `root`. Cheap to create; `runs()` does the reading."""

    def __init__(self, root: str | os.PathLike[str], stale_after: float = DEFAULT_STALE_AFTER):
        self.root = Path(root)
        self.stale_after = float(stale_after)
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
        self._cache = RecordCache(self.root)
        self._problems: list[Problem] = []
        self._dirs: dict[str, Path] = {}

    @property
    def read_only(self) -> bool:
        return not os.access(self.root, os.W_OK)

    # ----------------------------------------------------------------- listing
    def run_dirs(self) -> list[Path]:
        """Every run folder (a folder holding run.json or meant to), in id order."""
        out: list[Path] = []
        for exp in _subdirs(self.root, self._problems):
            if paths.is_hidden(exp.name):
                continue
            out.extend(_subdirs(exp, self._problems))
        out.sort(key=lambda p: p.name)
        return out

    def _records(self) -> list[dict[str, Any]]:
        self._problems = []
        records: list[dict[str, Any]] = []
        seen: set[str] = set()
        now = time.time()
        for run in self.run_dirs():
            key = str(run)
            sig = signature(run)
            if sig is None:
                if _is_empty(run):
                    self._problems.append(Problem(key, "empty run folder"))
                else:
                    self._problems.append(Problem(key, "run folder without run.json"))
                continue
            seen.add(key)
            rec = self._cache.get(key, sig)
            if rec is None:
                rec = read_record(run, self._problems)
                if rec is None:
                    continue
                rec["path"] = key
                self._cache.put(key, sig, rec)
            records.append(self._with_status(rec, run, now))
        self._cache.retain(seen)
        self._cache.save()
        self._dirs = {r["meta"]["run_id"]: Path(r["path"]) for r in records}
        return records

    def _with_status(self, rec: dict[str, Any], run: Path, now: float) -> dict[str, Any]:
        status = str(rec["meta"].get("status", "running"))
        out = dict(rec)
        out["last_seen"] = None
        if status == "running":
            try:
                beat = os.stat(run / paths.HEARTBEAT).st_mtime
            except FileNotFoundError:
                beat = 0.0
            age = now - beat
            meta = rec["meta"]
            pid = meta.get("pid")
            dead_here = (
                meta.get("host") == hostname() and isinstance(pid, int) and not pid_alive(pid)
            )
            if age > self.stale_after or (dead_here and age > DEAD_PID_GRACE):
                status = "crashed"
            if beat:
                out["last_seen"] = dt.datetime.fromtimestamp(beat, dt.UTC)
        out["status"] = status
        return out

    def runs(self, where: str | None = None) -> pl.DataFrame:
        """One row per run (see docs/FORMAT.md for the columns); `where` filters with SQL."""
        expr = query.parse(where) if where and where.strip() else None
        frame = build_frame(self._records())
        if expr is None:
            return frame
        return query.apply(frame, where)

    def problems(self) -> list[Problem]:
        """Files and folders skipped by the last listing or history read, and why."""
        return list(self._problems)

    # ----------------------------------------------------------------- one run
    def _dir_of(self, run_id: str) -> Path:
        if run_id not in self._dirs:
            for exp in _subdirs(self.root, []):
                if not paths.is_hidden(exp.name) and (exp / run_id / paths.RUN_JSON).exists():
                    self._dirs[run_id] = exp / run_id
                    break
            else:
                raise RunNotFoundError(f"no run with id {run_id!r} in {self.root}")
        return self._dirs[run_id]

    def resolve(self, ref: str) -> str:
        """A full run id from a full id, a unique id prefix, or `experiment/name`."""
        ref = ref.strip()
        if not ref:
            raise RunNotFoundError("empty run reference")
        ids = [p.name for p in self.run_dirs()]
        if ref in ids:
            return ref
        if "/" in ref:
            exp, _, name = ref.partition("/")
            frame = build_frame(self._records())
            hits = frame.filter((pl.col("experiment") == exp) & (pl.col("name") == name))
            found = hits["run_id"].to_list()
            if len(found) == 1:
                return str(found[0])
            if len(found) > 1:
                raise AmbiguousRunError(
                    f"{ref!r} names {len(found)} runs: {', '.join(found[:10])}", found
                )
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
        rec = self._with_status(rec, folder, time.time())
        return RunInfo.from_record(rec, folder, self)

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
        folders: dict[str, Path] = {}
        for ref in ids:
            run_id = ref if ref in self._dirs else self.resolve(ref)
            folders[run_id] = self._dir_of(run_id) / sub
        df = read_histories(folders, wanted, self._problems)
        if max_points is not None:
            return downsample(df, max_points)
        return df.sort("run_id", "key", "step", maintain_order=True)


def open(
    root: str | os.PathLike[str] | None = None, stale_after: float = DEFAULT_STALE_AFTER
) -> Store:  # noqa: A001
    """Open the store at `root` (default $MMTOP_DIR, else ./mmruns) for reading."""
    return Store(root if root is not None else paths.default_root(), stale_after=stale_after)


def _subdirs(folder: Path, problems: list[Problem]) -> list[Path]:
    try:
        with os.scandir(folder) as it:
            return [Path(e.path) for e in it if e.is_dir(follow_symlinks=False)]
    except PermissionError as exc:
        problems.append(Problem(str(folder), f"unreadable folder: {exc.strerror}"))
    except FileNotFoundError:
        pass
    except OSError as exc:
        problems.append(Problem(str(folder), f"unreadable folder: {exc}"))
    return []


def _is_empty(folder: Path) -> bool:
    try:
        return not any(os.scandir(folder))
    except OSError:
        return False
