"""Every path inside a store is spelled here, and nowhere else.

The layout is the contract of docs/FORMAT.md; readers, writers and tools ask this module
where things live so that a change of layout is a change of one file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from mmtop.store.errors import StoreError

ROOT_ENV = "MMTOP_DIR"
DEFAULT_ROOT = "mmruns"
STORE_MARKER = "mmtop-store.json"
CACHE_DIR = ".mmtop"
MODELS_DIR = "_models"
DATASETS_DIR = "_datasets"
INDEX_DIR = "_index"  # the run index (store/run_index.py)

RUN_JSON = "run.json"
HEARTBEAT = "heartbeat"
HEARTBEATS_DIR = "heartbeats"  # one file per writer of a shared run
PARAMS_JSON = "params.json"
SUMMARY_DIR = "summary"
METRICS_DIR = "metrics"
SYSTEM_DIR = "system"
TABLES_DIR = "tables"
ARTIFACTS_DIR = "artifacts"
ARTIFACTS_JSON = "artifacts.json"
ENV_JSON = "env.json"
CODE_JSON = "code.json"
CODE_PATCH = "code.patch"
INPUTS_JSON = "inputs.json"
NOTES_MD = "notes.md"
COMMENTS_JSONL = "comments.jsonl"
CONSOLE_LOG = "console.log"
EXPERIMENT_JSON = "experiment.json"
LOCK_FILE = ".lock"

TMP_SUFFIX = ".tmp"
PART_SUMS_SUFFIX = ".sha256"

# <writer>-<seq>.parquet, or <writer>-<first>-<last>.parquet for a compacted part that
# supersedes the single parts first..last of that writer.
# Matched with fullmatch (`$` also accepts a trailing newline); [0-9], as \d takes any
# Unicode digit.
PART_RE = re.compile(
    r"(?P<writer>[0-9a-z]+)-(?P<first>[0-9]{6,})(?:-(?P<last>[0-9]{6,}))?\.parquet"
)


# scheme://... (s3://, gs://, file://, http://): never a local folder name.
URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def object_root(root: str | os.PathLike[str] | None) -> str | None:
    """`root` when it names a store on object storage (`s3://...`), else None."""
    if root is None or not isinstance(root, str):
        return None
    return root if root.startswith("s3://") else None


def default_root(environ: Mapping[str, str] | None = None) -> Path:
    """$MMTOP_DIR, else ./mmruns."""
    env = os.environ if environ is None else environ
    return local_root(env.get(ROOT_ENV) or DEFAULT_ROOT)


def local_root(root: str | os.PathLike[str]) -> Path:
    """`root` as a local folder. A URL is refused (`s3://` roots are handled before this is
    asked: store/s3/), and `gs://bucket` must not quietly become a local folder named `gs:`."""
    text = os.fspath(root)
    if text.startswith("s3://"):
        # The commands that support object storage handle s3:// before asking for a folder.
        raise StoreError(
            f"store root {text!r} is on object storage, which this does not support yet; "
            "use a local or mounted folder"
        )
    if URL_RE.match(text):
        raise StoreError(
            f"store root {text!r} is a URL: the only object storage supported is "
            "s3://bucket/prefix; otherwise use a local or mounted folder"
        )
    return Path(text)


def run_dir(root: Path, experiment: str, run_id: str) -> Path:
    return root / experiment / run_id


def part_name(writer: str, first: int, last: int | None = None) -> str:
    if last is None or last == first:
        return f"{writer}-{first:06d}.parquet"
    return f"{writer}-{first:06d}-{last:06d}.parquet"


def part_sums_file(folder: Path, writer: str) -> Path:
    """The sha256 of each part a writer wrote into a metrics/ or system/ folder."""
    return folder / f"{writer}{PART_SUMS_SUFFIX}"


def writer_heartbeat(run: Path, writer: str) -> Path:
    return run / HEARTBEATS_DIR / writer


def console_log(run: Path, rank: int | None) -> Path:
    """console.log, or console.rank<N>.log for rank N > 0 of a shared run."""
    return run / (CONSOLE_LOG if not rank else f"console.rank{rank}.log")


def summary_file(run: Path, writer: str) -> Path:
    return run / SUMMARY_DIR / f"{writer}.json"


def table_file(run: Path, name: str) -> Path:
    return run / TABLES_DIR / f"{name}.parquet"


def table_meta_file(run: Path, name: str) -> Path:
    return run / TABLES_DIR / f"{name}.json"


def index_dir(root: Path) -> Path:
    return root / INDEX_DIR


def index_log_dir(root: Path) -> Path:
    return root / INDEX_DIR / "log"


def cache_dir(root: Path) -> Path:
    return root / CACHE_DIR


def is_hidden(name: str) -> bool:
    """Folders under the root that are not experiments: caches, the registry, dotfiles."""
    return name.startswith((".", "_"))
