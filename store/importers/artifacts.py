"""Which of a source run's files `--artifacts` copies, checked before anything is copied.

Only a local folder is read (a path, or a `file:` URI); every file under it must stay inside
it, and the folder inside the one the source says it belongs to (an MLflow file-store run's
folder): a `..` in the location, or a symlink leading out (or to a folder, which copying would
follow and might loop on), refuses the run, since its files could be anything on this machine.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..names import check_path_component
from .model import SourceRun

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


class NotLocal(ValueError):
    """The run's files are elsewhere (S3, an MLflow server): nothing to copy from here."""


def local_folder(location: str, base: Path | None = None) -> Path:
    """The folder `location` names; a relative path is taken from `base`."""
    text = location
    if text.startswith("file:"):
        parsed = urlparse(text)
        if parsed.netloc not in ("", "localhost"):
            raise NotLocal(f"artifacts at {location!r} are on host {parsed.netloc!r}")
        text = unquote(parsed.path)
    elif _SCHEME.match(text):
        raise NotLocal(f"artifacts at {location!r} are not in a local folder")
    if ".." in Path(text).parts:
        raise ValueError(f"artifact location {location!r} holds '..': refused")
    path = Path(text)
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def files_to_copy(run: SourceRun, problems: list[dict[str, str]]) -> list[tuple[str, Path]]:
    """(artifact name, path) of each top-level entry of the run's artifact folder. Raises
    ValueError when a path leads out; an entry mmtop cannot name is reported and left out."""
    if run.artifacts is None:
        return []
    try:
        folder = local_folder(run.artifacts)
    except NotLocal as exc:
        problems.append({"path": run.uri, "reason": f"artifacts not copied: {exc}"})
        return []
    if not folder.exists() and not folder.is_symlink():
        return []
    real = folder.resolve()
    within = Path(run.artifacts_within).resolve() if run.artifacts_within else real
    if folder.is_symlink() or not real.is_relative_to(within) or not real.is_dir():
        raise ValueError(f"{folder}: not a folder inside {within}: artifacts refused")
    for dirpath, dirs, files in os.walk(real):
        for name in dirs + files:
            path = Path(dirpath) / name
            if path.is_symlink() and (path.is_dir() or not path.resolve().is_relative_to(real)):
                raise ValueError(f"{path}: a symlink leading out of {real}: artifacts refused")
    out: list[tuple[str, Path]] = []
    for entry in sorted(os.scandir(real), key=lambda e: e.name):
        try:
            out.append((check_path_component(entry.name, "artifact name"), Path(entry.path)))
        except ValueError as exc:
            problems.append({"path": entry.path, "reason": f"artifact not copied: {exc}"})
    return out
