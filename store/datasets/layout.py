"""Where the dataset registry keeps things under `<root>/_datasets/`, and its names and refs.

_datasets/<name>/versions/<n>/manifest.json   committed version (written last)
_datasets/<name>/versions/<n>/.claim.json     who claimed number n (until it commits)
_datasets/<name>/versions/<n>/profile.json    per-column statistics (optional)
_datasets/<name>/versions/<n>/data.parquet    a snapshot of the data (optional)
_datasets/<name>/.lock                        held while a version is looked up and added
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import paths
from ..registry.layout import check_model_name, version_number

DATASETS_DIR = paths.DATASETS_DIR
VERSIONS_DIR = "versions"
MANIFEST = "manifest.json"
PROFILE = "profile.json"
SNAPSHOT = "data.parquet"

MANIFEST_FORMAT = "mmtop-dataset"
MANIFEST_VERSION = 1

_HEX_RE = re.compile(r"(?:(?:sha256|blake2b):)?[0-9a-f]{6,64}")

__all__ = ["version_number"]


def check_dataset_name(name: object) -> str:
    """Dataset names follow the model-name rule: refs use `@` and `/` after the name."""
    try:
        return check_model_name(name)
    except ValueError:
        raise ValueError(
            "dataset name must be 1-128 letters, digits, '.', '_' or '-' "
            f"(starting with a letter or digit): {name!r}"
        ) from None


def is_registry_name(name: object) -> bool:
    try:
        check_dataset_name(name)
    except ValueError:
        return False
    return True


def registry_dir(root: Path) -> Path:
    return root / DATASETS_DIR


def dataset_dir(root: Path, name: str) -> Path:
    return registry_dir(root) / check_dataset_name(name)


def versions_dir(root: Path, name: str) -> Path:
    return dataset_dir(root, name) / VERSIONS_DIR


def version_dir(root: Path, name: str, version: int) -> Path:
    return versions_dir(root, name) / str(version)


def parse_ref(ref: str) -> tuple[str, int | None] | str:
    """`name` -> (name, None); `name@3` or `name/3` -> (name, 3); a fingerprint or a hex
    prefix of one (6+ digits, `sha256:` optional) -> that text."""
    text = ref.strip()
    for sep in ("@", "/"):
        if sep in text:
            name, _, number = text.partition(sep)
            check_dataset_name(name)
            found = version_number(number)
            if found is None:
                raise ValueError(f"bad dataset reference {ref!r}: version must be a number >= 1")
            return name, found
    if is_registry_name(text):
        return text, None
    if _HEX_RE.fullmatch(text):
        return text
    raise ValueError(
        f"bad dataset reference {ref!r}: use NAME, NAME@VERSION or a fingerprint prefix"
    )


def looks_like_fingerprint(text: str) -> bool:
    return _HEX_RE.fullmatch(text.strip()) is not None
