"""Where runs live: the store's marker, the folder of a run id, and new run folders."""

from __future__ import annotations

import os
from pathlib import Path

from . import paths
from .errors import SchemaVersionError, StoreError
from .fsio import create_json_exclusive, read_json
from .ids import new_run_id
from .schema import STORE_FORMAT, STORE_VERSION

# Drawing 48 random bits this many times in a row and always meeting a taken folder means
# something other than chance is at work.
MAX_ID_DRAWS = 100


def ensure_store(root: Path) -> None:
    """Create the store marker if absent; refuse a store of a newer format."""
    root.mkdir(parents=True, exist_ok=True)
    marker = root / paths.STORE_MARKER
    if not marker.exists():
        create_json_exclusive(marker, {"format": STORE_FORMAT, "version": STORE_VERSION})
        return
    data = read_json(marker)
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, int) or version > STORE_VERSION:
        raise SchemaVersionError(
            f"{marker}: store format version {version!r} is newer than this mmtop "
            f"understands ({STORE_VERSION}); upgrade mmtop"
        )


def find_run_dir(root: Path, run_id: str) -> Path | None:
    """The folder of the run `run_id` in any experiment, if it has a run.json."""
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return None
    for entry in entries:
        # Linked folders are not the store's (readers do not list them either): resuming
        # through one would write wherever it points.
        if entry.is_dir(follow_symlinks=False) and not paths.is_hidden(entry.name):
            candidate = Path(entry.path) / run_id
            if not candidate.is_symlink() and (candidate / paths.RUN_JSON).exists():
                return candidate
    return None


def claim_new_run_dir(root: Path, experiment: str) -> tuple[str, Path]:
    """A generated run id and its folder, created by this call.

    mkdir is atomic and fails when the folder exists, so two processes that draw the same id
    never share a run: the one that loses draws again. Only an explicit `run_id=` joins a run.
    """
    (root / experiment).mkdir(parents=True, exist_ok=True)
    for _draw in range(MAX_ID_DRAWS):
        run_id = new_run_id()
        folder = paths.run_dir(root, experiment, run_id)
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return run_id, folder
    raise StoreError(f"no free run id under {root / experiment} after {MAX_ID_DRAWS} draws")
