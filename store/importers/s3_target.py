"""Importing into a store on object storage (`--root s3://bucket/prefix`).

The runs are imported into a private local store with the ordinary code, then each new run's
files are uploaded, every one a conditional create, run.json last: a reader lists a run by
its run.json, so it never sees one whose files are not all there, and a run whose upload was
cut short is found (its folder without run.json) instead of being filled up with files from a
second, different import. The local store is removed afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .. import paths
from ..errors import StoreError, first_line
from ..folders import find_run_dir
from ..objstore import ObjectRoot
from ..s3.push import remote_errors
from .model import ImportReport
from .target import Progress, import_local

REGISTRY_SKIPPED = "registered models are not imported into s3:// stores yet"


class _Remote:
    """The runs on the object store, listed once: run id -> its experiment folder."""

    def __init__(self, remote: ObjectRoot) -> None:
        self.remote = remote
        self.runs: dict[str, str] = {}
        with remote_errors(remote.url, ""):
            experiments, _ = remote.list("")
            for prefix in experiments:
                experiment = prefix.rstrip("/").rsplit("/", 1)[-1]
                if paths.is_hidden(experiment):
                    continue
                folders, _ = remote.list(f"{experiment}/")
                for folder in folders:
                    self.runs.setdefault(folder.rstrip("/").rsplit("/", 1)[-1], experiment)

    def has(self, run_id: str, report: ImportReport) -> bool:
        experiment = self.runs.get(run_id)
        if experiment is None:
            return False
        where = f"{self.remote.url}/{experiment}/{run_id}"
        with remote_errors(self.remote.url, f"{experiment}/{run_id}/{paths.RUN_JSON}"):
            whole = self.remote.exists(f"{experiment}/{run_id}/{paths.RUN_JSON}")
        if whole:
            report.skipped.append(run_id)
        else:
            report.problems.append(
                {
                    "path": where,
                    "reason": f"an earlier import of {run_id} stopped before its run.json "
                    f"was written; not imported: remove {where}/ to import it again",
                }
            )
        return True


def import_to_s3(
    source: str,
    location: str,
    url: str,
    experiment: str | None,
    progress: Progress | None,
    artifacts: bool,
) -> ImportReport:
    remote = ObjectRoot(url)
    on_remote = _Remote(remote)
    local = Path(tempfile.mkdtemp(prefix="mmtop-import-"))
    try:
        report = import_local(
            source, location, local, experiment, progress, artifacts, elsewhere=on_remote.has
        )
        if source == "mlflow":
            report.notes.append(REGISTRY_SKIPPED)
        _ensure_marker(remote, local)
        uploaded: list[str] = []
        for run_id in report.imported:
            folder = find_run_dir(local, run_id)
            if folder is not None and _upload(remote, local, folder, report):
                uploaded.append(run_id)
        report.imported = uploaded
        return report
    finally:
        shutil.rmtree(local, ignore_errors=True)


def _ensure_marker(remote: ObjectRoot, local: Path) -> None:
    marker = local / paths.STORE_MARKER
    if marker.is_file():
        with remote_errors(remote.url, paths.STORE_MARKER):
            remote.create_once(paths.STORE_MARKER, marker.read_bytes())


def _upload(remote: ObjectRoot, local: Path, folder: Path, report: ImportReport) -> bool:
    """Create every file of the run `folder` on `remote`, run.json last; False (and the run
    listed as a problem, its run.json not written) when a file exists there with other bytes
    or cannot be written."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.name == paths.RUN_JSON and p.parent == folder)
    where = f"{remote.url}/{folder.relative_to(local).as_posix()}"
    for path in files:
        key = path.relative_to(local).as_posix()
        data = path.read_bytes()
        try:
            with remote_errors(remote.url, key):
                if remote.create_once(key, data):
                    continue
                found = remote.get(key)
        except (StoreError, OSError) as exc:
            report.problems.append({"path": where, "reason": first_line(exc)})
            return False
        if found is None or found.data != data:
            report.problems.append(
                {
                    "path": where,
                    "reason": f"{key} exists on the object store with other bytes; "
                    "run not imported",
                }
            )
            return False
    return True
