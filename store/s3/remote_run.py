"""A writer's staging folder for a store on object storage, and what it pulls into it.

`store.Run(root="s3://bucket/prefix")` writes into a private temporary folder laid out like a
local store, mirrored to the object store (store/s3/push.py). Before the writer looks for the
run it is asked to join or resume, the run's objects (and the store marker) are pulled into
that folder, so the ordinary writer finds them where it would on a disk: a resumed run
continues after its last step, a joined run's run.json is the one on the object store.
A folder left by a writer that died is removed by the next one (`sweep_abandoned`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

from .. import paths
from ..fsio import attach_mirror, detach_mirror, mirror_for
from ..objstore import ObjectRoot
from .push import Pusher, remote_errors

STAGING_PREFIX = "mmtop-s3-"
# Held (flock) by the process writing through a staging folder for as long as it does: a
# folder whose lock can be taken belongs to a process that died (`kill -9`, a lost node).
OWNER_LOCK = ".mmtop-staging.lock"
# A folder younger than this is never swept: its writer may not have taken its lock yet.
ABANDONED_AFTER = 60.0


class Staging:
    """The local folder one writer stages a remote store in, while it is attached."""

    def __init__(self, url: str) -> None:
        self.remote = ObjectRoot(url)  # checks the URL and obstore; no request yet
        self.folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX)).resolve()
        self._owner = os.open(self.folder / OWNER_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
        fcntl.flock(self._owner, fcntl.LOCK_EX)
        sweep_abandoned(self.folder.parent)
        self.pusher = Pusher(self.folder, self.remote)
        self._pushed_log: set[str] = set()
        attach_mirror(self.folder, self.pusher)

    @property
    def url(self) -> str:
        return self.remote.url

    def pull_for(self, run_id: str | None) -> None:
        """The store marker, and the run `run_id` names if the object store has it."""
        pull(self.remote, self.folder, paths.STORE_MARKER)
        if run_id is None:
            return
        experiment = find_run(self.remote, run_id)
        if experiment is not None:
            pull_tree(self.remote, self.folder, f"{experiment}/{run_id}/")

    def push_files(self, *files: Path) -> None:
        """Files written around fsio (the console log): whole, when they exist."""
        for path in files:
            if path.is_file() and mirror_for(path) is self.pusher:
                self.pusher.put_file(path, path)

    def push_index_log(self) -> None:
        """The run index's new log entries (store/run_index.py writes them directly)."""
        log = paths.index_log_dir(self.folder)
        try:
            names = sorted(set(os.listdir(log)) - self._pushed_log)
        except FileNotFoundError:
            return
        for name in names:
            # The index is optional (never the truth): a failure here fails nothing.
            with contextlib.suppress(OSError):
                if not name.endswith(paths.TMP_SUFFIX):
                    self.pusher.create(log / name, (log / name).read_bytes())
                self._pushed_log.add(name)

    def close(self) -> None:
        """Stop mirroring and remove the folder: everything in it is on the object store."""
        detach_mirror(self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._owner >= 0:  # once: the number may belong to another file afterwards
            os.close(self._owner)
            self._owner = -1


def sweep_abandoned(tmp: Path) -> int:
    """Remove the staging folders under `tmp` that a dead process of this user left (their
    objects were written before their local files, so nothing is lost); how many."""
    removed = 0
    try:
        entries = [e for e in os.scandir(tmp) if e.name.startswith(STAGING_PREFIX)]
    except OSError:
        return 0
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat().st_uid != os.getuid():
                continue
            fd = os.open(os.path.join(entry.path, OWNER_LOCK), os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if time.time() - os.fstat(fd).st_mtime < ABANDONED_AFTER:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its writer is alive
        else:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
        finally:
            os.close(fd)
    return removed


def find_run(remote: ObjectRoot, run_id: str) -> str | None:
    """The experiment that holds run `run_id` on the object store, if one does."""
    with remote_errors(remote.url, ""):
        folders, _ = remote.list("")
        for folder in sorted(folders):
            experiment = folder.rstrip("/").rsplit("/", 1)[-1]
            if paths.is_hidden(experiment):
                continue
            if remote.exists(f"{experiment}/{run_id}/{paths.RUN_JSON}"):
                return experiment
    return None


def pull_tree(remote: ObjectRoot, folder: Path, prefix: str) -> int:
    """Copy every object under `prefix` into `folder`, its mtime its LastModified."""
    with remote_errors(remote.url, prefix):
        found = remote.walk(prefix)
    for key, modified in found:
        pull(remote, folder, key, modified)
    return len(found)


def pull(remote: ObjectRoot, folder: Path, key: str, modified: float | None = None) -> bool:
    target = local_path(folder, key)
    target.parent.mkdir(parents=True, exist_ok=True)
    with remote_errors(remote.url, key):
        if not remote.download(key, target):
            return False
    if modified is not None:
        os.utime(target, (modified, modified))
    return True


def local_path(folder: Path, key: str) -> Path:
    """Where `key` goes under `folder`; a key that would lead out of it is refused."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"object key {key!r} is not a store path: not pulled")
    return folder.joinpath(*parts)
