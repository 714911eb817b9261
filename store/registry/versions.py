"""Version numbers and commits: claim a number with create-if-absent, commit by manifest.

A registration claims the next free number by creating its folder (`mkdir` fails if the name
exists, so racing processes get distinct numbers), writes the model files into it, and commits
by creating `manifest.json` last, also create-if-absent. Readers only see folders with a
manifest; a folder whose claimer died before committing is reported and removed by compaction.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fsio import create_json_exclusive, mirror_for, read_json
from ..ids import hostname, now_iso, pid_alive, username
from . import layout

# A claim by another host can only be judged by its age: registrations of huge models take
# long, so only a day-old claim is taken for dead.
FOREIGN_CLAIM_TTL = 24 * 3600.0
# A folder with no claim file: its claimer died between mkdir and writing the claim.
BARE_CLAIM_TTL = 600.0


def committed(root: Path, name: str) -> list[int]:
    """Committed version numbers of a model, ascending."""
    out = []
    for number, folder in _numbered(layout.versions_dir(root, name)):
        if os.path.exists(folder / layout.MANIFEST):
            out.append(number)
    return sorted(out)


def _numbered(folder: Path) -> list[tuple[int, Path]]:
    try:
        with os.scandir(folder) as it:
            entries = [(layout.version_number(e.name), e.path) for e in it if e.is_dir()]
    except FileNotFoundError:
        return []
    return [(n, Path(p)) for n, p in entries if n is not None]


def claim(root: Path, name: str) -> tuple[int, Path]:
    """The next free version number of `name`, claimed for this process, and its folder."""
    return claim_in(layout.versions_dir(root, name))


def claim_in(versions: Path) -> tuple[int, Path]:
    """The next free number under a `versions/` folder, claimed by `mkdir`, and its folder."""
    versions.mkdir(parents=True, exist_ok=True)
    number = max((n for n, _ in _numbered(versions)), default=0) + 1
    while True:
        folder = versions / str(number)
        try:
            os.mkdir(folder)
        except FileExistsError:
            number += 1
            continue
        claim = {"pid": os.getpid(), "host": hostname(), "user": username(), "claimed": now_iso()}
        # On a disk the mkdir above decided; a staged store on object storage has no shared
        # folders, so there the conditional create of the claim does (and the claim stays).
        if not create_json_exclusive(folder / layout.CLAIM, claim):
            number += 1
            continue
        return number, folder


def commit(folder: Path, manifest: dict[str, Any]) -> None:
    """Make a claimed version visible: its manifest, created last and only once."""
    mirror = mirror_for(folder)
    if mirror is not None:  # serializers write their files directly: they go up first
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.name not in (layout.MANIFEST, layout.CLAIM):
                mirror.put_file(path, path)
    if not create_json_exclusive(folder / layout.MANIFEST, manifest):
        raise FileExistsError(f"{folder}: version already committed")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(folder / layout.CLAIM)


def abandon(folder: Path) -> None:
    """Remove a claimed folder whose registration failed (never a committed one)."""
    if not (folder / layout.MANIFEST).exists():
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Uncommitted:
    """A version folder without a manifest: `stale` when its claimer is gone."""

    path: Path
    stale: bool
    reason: str


def uncommitted(root: Path, name: str) -> list[Uncommitted]:
    return uncommitted_in(layout.versions_dir(root, name))


def uncommitted_in(versions: Path) -> list[Uncommitted]:
    out = []
    for _, folder in sorted(_numbered(versions)):
        if not (folder / layout.MANIFEST).exists():
            out.append(judge(folder))
    return out


def judge(folder: Path) -> Uncommitted:
    """Whether the claimer of a folder without manifest is still at work, and why not."""
    now = time.time()
    try:
        info = read_json(folder / layout.CLAIM)
    except (OSError, ValueError):
        info = None
    if not isinstance(info, dict):
        try:
            age = now - folder.stat().st_mtime
        except FileNotFoundError:
            age = 0.0
        stale = age > BARE_CLAIM_TTL
        return Uncommitted(folder, stale, "version folder without manifest or claim")
    pid, host = info.get("pid"), info.get("host")
    if host == hostname() and isinstance(pid, int):
        if pid_alive(pid) and pid != os.getpid():
            return Uncommitted(folder, False, f"registration in progress (pid {pid})")
        if pid == os.getpid():
            return Uncommitted(folder, False, "registration in progress (this process)")
        return Uncommitted(
            folder, True, f"registration interrupted: pid {pid} died before the manifest"
        )
    try:
        age = now - (folder / layout.CLAIM).stat().st_mtime
    except FileNotFoundError:
        age = 0.0
    stale = age > FOREIGN_CLAIM_TTL
    state = "abandoned" if stale else "possibly in progress"
    return Uncommitted(folder, stale, f"registration by {host} pid {pid} {state}, no manifest")


def remove_stale(root: Path, name: str) -> list[Path]:
    """Delete version folders whose claimer died before committing; returns them."""
    removed = []
    for item in uncommitted(root, name):
        if item.stale:
            shutil.rmtree(item.path, ignore_errors=True)
            removed.append(item.path)
    return removed
