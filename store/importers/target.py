"""Writing imported runs: the same files a `store.Run` writes, in bulk.

A run is built whole in a staging folder under the store's `.mmtop/` and renamed into its
experiment in one step, so readers never see half an imported run, and an interrupted import
leaves nothing that a later one would mistake for done. Points go straight into Parquet parts
(many thousands of points a part) instead of through `Run.log`, one call per step, which
would cost more than reading the source.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .. import paths
from ..artifacts import log_artifact
from ..bulk import write_json_compact, write_points
from ..errors import first_line
from ..folders import ensure_store, find_run_dir
from ..fsio import write_bytes_atomic, write_json_atomic
from ..ids import new_writer_id, now_iso
from ..names import MAX_NAME_LEN, check_key
from ..schema import RUN_SCHEMA_VERSION
from .artifacts import files_to_copy
from .model import ImportReport, Pending, SourceRun, iso, run_id_for

PART_ROWS = 2_000_000
STAGING = "importing"
Progress = Callable[[int, int, int], None]  # runs done, runs in all, points so far


def import_runs(
    source: str,
    location: str,
    root: str | os.PathLike[str],
    experiment: str | None = None,
    progress: Progress | None = None,
    artifacts: bool = False,
) -> ImportReport:
    """Import every run of `location` not imported before; raises ImportError_ when the
    source cannot be read at all, reports (and skips) runs that cannot be read. With
    `artifacts`, each run's files are copied into it too. An s3:// `root` is written
    through a private local store (store/importers/s3_target.py)."""
    url = paths.object_root(os.fspath(root))
    if url is not None:
        from .s3_target import import_to_s3

        return import_to_s3(source, location, url, experiment, progress, artifacts)
    return import_local(source, location, paths.local_root(root), experiment, progress, artifacts)


def import_local(
    source: str,
    location: str,
    store_root: Path,
    experiment: str | None = None,
    progress: Progress | None = None,
    artifacts: bool = False,
    elsewhere: Callable[[str, ImportReport], bool] | None = None,
) -> ImportReport:
    """`import_runs` into the local folder `store_root`. `elsewhere(run_id, report)`: whether
    the run is imported already where this store is headed (then it is skipped); given, the
    MLflow registry is not imported."""
    report = ImportReport(source)
    if artifacts and source != "mlflow":
        from .model import ImportError_

        raise ImportError_(f"--artifacts copies MLflow runs' files; {source} runs have none")
    found = _scan(source, location, report)
    ensure_store(store_root)
    staging = paths.cache_dir(store_root) / STAGING
    report.found = len(found)
    created = {p.source_id: p.created for p in found}
    todo: list[tuple[Pending, str]] = []
    for pending in found:
        run_id = run_id_for(source, pending.source_id, pending.created)
        if elsewhere is not None and elsewhere(run_id, report):
            continue
        existing = find_run_dir(store_root, run_id)
        if existing is not None:
            report.skipped.append(run_id)
            if pending.fingerprint is not None:
                _check_unchanged(existing, pending, run_id, report)
        else:
            todo.append((pending, run_id))
    done = len(found) - len(todo)
    if progress is not None:
        progress(done, len(found), 0)
    # The next run is read while this one is written: sqlite3, protobuf parsing and Parquet
    # writing release the GIL for much of their work, so reading and writing share two cores.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mmtop-import") as pool:
        ahead = pool.submit(_load, todo[0][0], artifacts, report) if todo else None
        for k, (pending, run_id) in enumerate(todo):
            assert ahead is not None
            loaded = ahead.result()
            nxt = todo[k + 1][0] if k + 1 < len(todo) else None
            ahead = pool.submit(_load, nxt, artifacts, report) if nxt is not None else None
            if isinstance(loaded, SourceRun):
                _write_one(loaded, run_id, store_root, staging, experiment, created, report)
            else:
                report.problems.append({"path": pending.where, "reason": first_line(loaded)})
            done += 1
            if progress is not None:
                progress(done, len(found), report.points)
    if source == "mlflow" and elsewhere is None:
        from .mlflow_models import import_registry

        import_registry(location, store_root, created, report)
    return report


def _check_unchanged(folder: Path, pending: Pending, run_id: str, report: ImportReport) -> None:
    """A source run that changed since it was imported is listed: the imported copy is not
    brought up to date (it may have been annotated since), and saying nothing would let the
    difference go unnoticed."""
    try:
        meta = json.loads((folder / paths.RUN_JSON).read_bytes())
        before = meta["imported"].get("fingerprint")
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return
    if before is not None and before != pending.fingerprint:
        report.problems.append(
            {
                "path": pending.where,
                "reason": f"changed since it was imported as {run_id} ({before}, now "
                f"{pending.fingerprint}); not brought up to date: remove {folder} to import "
                "it again",
            }
        )


def _load(pending: Pending, artifacts: bool, report: ImportReport) -> SourceRun | Exception:
    try:
        run = pending.load()
        if artifacts:
            run.copy = files_to_copy(run, report.problems)
        return run
    # A damaged source file can fail a parser in any way; it costs its run only.
    except Exception as exc:  # noqa: BLE001
        return exc


def _write_one(
    run: SourceRun,
    run_id: str,
    root: Path,
    staging: Path,
    experiment: str | None,
    created: dict[str, float],
    report: ImportReport,
) -> None:
    if experiment is not None:
        run.experiment = experiment
    parent = None
    if run.parent_id is not None and run.parent_id in created:
        parent = run_id_for(run.source, run.parent_id, created[run.parent_id])
    try:
        points = write_run(root, staging, run_id, run, parent, report)
    except OSError as exc:  # an artifact that cannot be read, among others: this run only
        report.problems.append({"path": run.uri, "reason": first_line(exc)})
        return
    if points is None:
        report.skipped.append(run_id)
    else:
        report.imported.append(run_id)
        report.points += points
        for kind, count in run.left_out.items():
            report.left_out[kind] = report.left_out.get(kind, 0) + count


def _scan(source: str, location: str, report: ImportReport) -> list[Pending]:
    from .model import ImportError_

    if source == "mlflow":
        if location.startswith("sqlite:"):
            from . import mlflow_sqlite

            return mlflow_sqlite.scan(location, report.problems)
        from . import mlflow_files

        return mlflow_files.scan(location, report.problems)
    if source == "tensorboard":
        from . import tensorboard

        return tensorboard.scan(location, report.problems)
    if source == "wandb":
        from . import wandb_runs

        return wandb_runs.scan(location, report.problems)
    raise ImportError_(f"unknown source {source!r} (known: mlflow, tensorboard, wandb)")


def write_run(
    root: Path,
    staging: Path,
    run_id: str,
    run: SourceRun,
    parent: str | None,
    report: ImportReport,
) -> int | None:
    """Write `run` as `run_id`; the number of points written, None when it exists already."""
    experiment = folder_name(run.experiment)
    folder = staging / f"{run_id}.{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    try:
        points = _fill(folder, run_id, experiment, run, parent, report)
        (root / experiment).mkdir(exist_ok=True)
        try:
            os.rename(folder, paths.run_dir(root, experiment, run_id))
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            return None  # another import of the same source got there first
        return points
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fill(
    folder: Path,
    run_id: str,
    experiment: str,
    run: SourceRun,
    parent: str | None,
    report: ImportReport,
) -> int:
    writer = new_writer_id()
    if run.params:
        write_json_atomic(folder / paths.PARAMS_JSON, run.params)
    points = _write_points(folder, writer, run, report)
    if run.code is not None:
        write_json_atomic(folder / paths.CODE_JSON, run.code)
    if run.notes:
        write_bytes_atomic(folder / paths.NOTES_MD, run.notes.encode("utf-8"))
    for name, source in run.copy:
        log_artifact(folder, source, name)
    imported: dict[str, Any] = {
        "source": run.source,
        "id": run.source_id,
        "uri": run.uri,
        "at": now_iso(),
    }
    if run.parent_id is not None:
        imported["parent_id"] = run.parent_id
        imported["parent_run_id"] = parent
    if run.source_tags:
        imported["tags"] = run.source_tags
    if run.left_out:
        imported["left_out"] = run.left_out
    if run.fingerprint is not None:
        imported["fingerprint"] = run.fingerprint
    meta: dict[str, Any] = {
        "schema_version": RUN_SCHEMA_VERSION,
        "run_id": run_id,
        "experiment": experiment,
        "name": text_value(run.name) or f"run-{run_id[-6:]}",
        "status": run.status,
        "created": iso(run.created),
        "ended": iso(run.ended if run.ended is not None else run.created),
        "host": None,
        "user": run.user,
        "pid": None,
        "command": [],
        "tags": [t for t in (text_value(t) for t in run.tags) if t],
        "error": run.error,
        "imported": imported,
    }
    write_json_compact(folder / paths.RUN_JSON, meta)
    return points


def _write_points(folder: Path, writer: str, run: SourceRun, report: ImportReport) -> int:
    names: list[str] = []
    chunks = []
    for key, pts in run.metrics.items():
        try:
            check_key(key)
        except (TypeError, ValueError) as exc:
            report.problems.append({"path": run.uri, "reason": f"metric skipped: {exc}"})
            continue
        if len(pts.step) == 0:
            continue
        order = np.lexsort((pts.time_us, pts.step))  # stable: repeated steps keep their order
        chunks.append((len(names), pts.step[order], pts.time_us[order], pts.value[order]))
        names.append(key)
    explicit = _checked_values(run, report)
    if not chunks:
        if explicit:
            _write_summary(folder, writer, {}, explicit)
        return 0
    return write_points(
        folder,
        writer,
        names,
        np.concatenate([np.full(len(c[1]), c[0], dtype=np.int32) for c in chunks]),
        np.concatenate([c[1] for c in chunks]).astype(np.int64, copy=False),
        np.concatenate([c[2] for c in chunks]).astype(np.int64, copy=False),
        np.concatenate([c[3] for c in chunks]).astype(np.float64, copy=False),
        explicit,
        PART_ROWS,
    )


def _checked_values(run: SourceRun, report: ImportReport) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in run.values.items():
        try:
            check_key(key)
        except (TypeError, ValueError) as exc:
            report.problems.append({"path": run.uri, "reason": f"summary value skipped: {exc}"})
            continue
        out[key] = value
    return out


def _write_summary(
    folder: Path, writer: str, metrics: dict[str, Any], values: dict[str, float]
) -> None:
    summary = {
        "writer": writer,
        "updated": time.time(),
        "metrics": metrics,
        "values": values,
        "system": {},
    }
    (folder / paths.SUMMARY_DIR).mkdir()
    write_json_atomic(paths.summary_file(folder, writer), summary)


def text_value(text: str | None, limit: int = MAX_NAME_LEN) -> str | None:
    """`text` as a name mmtop accepts: control characters dropped, cut at `limit`."""
    if text is None:
        return None
    kept = "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    ).strip()
    return kept[:limit] or None


def folder_name(experiment: str) -> str:
    """An experiment name from another tool as a folder name mmtop accepts: separators become
    `-`, leading dots and underscores go (MLflow names like `/Users/me/exp` are common)."""
    name = text_value(experiment.replace("/", "-").replace("\\", "-")) or ""
    name = name.lstrip("._-").strip()
    return name if name not in ("", ".", "..") else "default"
