"""`store.compact(root)`: merge the Parquet parts of runs whose writers are gone.

Live writers compact their own parts; this is for stores that grew many files anyway (runs
killed before their final compaction, many resumes). Each dead writer's parts in a folder are
merged into one part named for the whole range they cover, written before the old parts are
deleted (a grace period later), so readers that are open meanwhile never see a point twice or
miss one.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from . import checksums, paths, run_index
from .errors import CorruptPartError
from .parts import Part, own_part_names, parse_part, read_part, select_parts, write_part
from .reader import Store
from .schema import FINAL_STATUSES


@dataclass
class CompactReport:
    runs_compacted: int = 0
    runs_skipped_live: int = 0
    parts_before: int = 0
    parts_after: int = 0
    failed: list[str] = field(default_factory=list)
    model_versions_removed: list[str] = field(default_factory=list)
    dataset_versions_removed: list[str] = field(default_factory=list)
    index_runs: int = 0  # rows of the run index written (store/run_index.py); 0: not written


# Superseded parts stay this long after the part that replaces them was written: a reader
# that listed the folder just before still finds every part it listed, so it reads them in
# one scan instead of listing again. Readers prefer the merged part once they see it.
GRACE_SECONDS = 2.0


@dataclass
class _Retired:
    """Parts superseded by a merged one, to delete once no reader can be about to read them."""

    paths: list[Path] = field(default_factory=list)
    writers: set[tuple[Path, str]] = field(default_factory=set)
    not_before: float = 0.0

    def add(self, part: Part, written: float) -> None:
        self.paths.append(part.path)
        self.writers.add((part.path.parent, part.writer))
        self.not_before = max(self.not_before, written)

    def delete(self, grace: float) -> None:
        wait = self.not_before + grace - time.time()
        if self.paths and wait > 0:
            time.sleep(wait)  # nothing to wait on but time: readers leave no trace
        for path in self.paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        for folder, writer in self.writers:
            with contextlib.suppress(OSError):
                checksums.prune(folder, writer, own_part_names(folder, writer))


def compact(root: str | os.PathLike[str], grace: float = GRACE_SECONDS) -> CompactReport:
    """Compact every run that ended (finished, failed or killed).

    Not `crashed` runs: that is a reading of a stale heartbeat, and a stopped job (Ctrl-Z, a
    suspended container) comes back and compacts its own parts. The parts merged are deleted
    at the end, `grace` seconds after the last merged part was written.
    """
    store = Store(root)
    report = CompactReport()
    retired = _Retired()
    upto = run_index.mark(store.root)
    store._vouched = False
    frame = store.runs()
    for run_id, status, folder in frame.select("run_id", "status", "path").iter_rows():
        if status not in FINAL_STATUSES:
            report.runs_skipped_live += 1
            continue
        changed = False
        for sub in (paths.METRICS_DIR, paths.SYSTEM_DIR):
            try:
                before, after = compact_folder(Path(folder) / sub, retired)
            except (OSError, pa.ArrowException, CorruptPartError) as exc:
                report.failed.append(f"{run_id}/{sub}: {exc}")
                continue
            report.parts_before += before
            report.parts_after += after
            changed = changed or before != after
        report.runs_compacted += int(changed)
    base = store._base
    if base is not None and run_index.save(store.root, base, upto, store._unread()):
        report.index_runs = base.height
    retired.delete(grace)
    report.model_versions_removed = [str(p) for p in remove_interrupted_versions(store.root)]
    report.dataset_versions_removed = [str(p) for p in remove_interrupted_datasets(store.root)]
    return report


def remove_interrupted_versions(root: Path) -> list[Path]:
    """Model version folders whose registering process died before writing the manifest."""
    from .registry import versions
    from .registry.catalog import Catalog

    removed: list[Path] = []
    for name in Catalog(root).names():
        removed.extend(versions.remove_stale(root, name))
    return removed


def remove_interrupted_datasets(root: Path) -> list[Path]:
    """Dataset version folders whose registering process died before writing the manifest."""
    import shutil

    from .datasets import layout
    from .datasets.catalog import DatasetCatalog
    from .registry import versions

    removed: list[Path] = []
    for name in DatasetCatalog(root).names():
        for item in versions.uncommitted_in(layout.versions_dir(root, name)):
            if item.stale:
                shutil.rmtree(item.path, ignore_errors=True)
                removed.append(item.path)
    return removed


def compact_folder(folder: Path, retired: _Retired | None = None) -> tuple[int, int]:
    """Merge each writer's parts in `folder`; returns (parts before, parts after).

    The parts merged go to `retired` (deleted at once without one), with parts an earlier,
    interrupted compaction left behind.
    """
    now = retired if retired is not None else _Retired()
    try:
        names = [Path(e.path) for e in os.scandir(folder) if e.name.endswith(".parquet")]
    except FileNotFoundError:
        return 0, 0
    parts = select_parts(names)
    for name in set(names) - {p.path for p in parts}:
        left = parse_part(name)
        if left is not None:
            now.add(left, _mtime(parts, left))
    by_writer: dict[str, list[Part]] = {}
    for part in parts:
        by_writer.setdefault(part.writer, []).append(part)
    after = 0
    for writer, own in by_writer.items():
        after += 1
        if len(own) < 2:
            continue
        own.sort(key=lambda p: p.first)
        first, last = own[0].first, max(p.last for p in own)
        # A damaged part fails here, before its bytes could be merged under a fresh digest.
        sums = checksums.recorded(folder, writer)
        merged = pa.concat_tables(
            [read_part(p.path, sums.get(p.path.name)) for p in own]
        ).combine_chunks()
        write_part(folder / paths.part_name(writer, first, last), merged)
        written = time.time()
        for p in own:
            now.add(p, written)
    if retired is None:
        now.delete(0.0)
    return len(parts), after


def _mtime(parts: list[Part], left: Part) -> float:
    """When the part that covers `left` was written (0 if it is gone)."""
    for p in parts:
        if p.writer == left.writer and p.first <= left.first and left.last <= p.last:
            with contextlib.suppress(OSError):
                return p.path.stat().st_mtime
    return 0.0
