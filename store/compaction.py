"""`store.compact(root)`: merge the Parquet parts of runs whose writers are gone.

Live writers compact their own parts; this is for stores that grew many files anyway (runs
killed before their final compaction, many resumes). Each dead writer's parts in a folder are
merged into one part named for the whole range they cover, written before the old parts are
deleted, so readers that are open meanwhile never see a point twice or miss one.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from . import checksums, paths
from .errors import CorruptPartError
from .parts import Part, list_parts, own_part_names, read_part, write_part
from .reader import Store
from .schema import FINAL_STATUSES


@dataclass
class CompactReport:
    runs_compacted: int = 0
    runs_skipped_live: int = 0
    parts_before: int = 0
    parts_after: int = 0
    failed: list[str] = field(default_factory=list)


def compact(root: str | os.PathLike[str]) -> CompactReport:
    """Compact every run that ended (finished, failed or killed).

    Not `crashed` runs: that is a reading of a stale heartbeat, and a stopped job (Ctrl-Z, a
    suspended container) comes back and compacts its own parts.
    """
    store = Store(root)
    report = CompactReport()
    frame = store.runs()
    for run_id, status, folder in frame.select("run_id", "status", "path").iter_rows():
        if status not in FINAL_STATUSES:
            report.runs_skipped_live += 1
            continue
        changed = False
        for sub in (paths.METRICS_DIR, paths.SYSTEM_DIR):
            try:
                before, after = compact_folder(Path(folder) / sub)
            except (OSError, pa.ArrowException, CorruptPartError) as exc:
                report.failed.append(f"{run_id}/{sub}: {exc}")
                continue
            report.parts_before += before
            report.parts_after += after
            changed = changed or before != after
        report.runs_compacted += int(changed)
    return report


def compact_folder(folder: Path) -> tuple[int, int]:
    """Merge each writer's parts in `folder`; returns (parts before, parts after)."""
    parts = list_parts(folder)
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
        for p in own:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p.path)
        checksums.prune(folder, writer, own_part_names(folder, writer))
    return len(parts), after
