"""Where the registry keeps things under `<root>/_models/`, and what names may be used.

Every path of the registry is spelled here (docs/FORMAT.md, "Model registry"):

    _models/<name>/versions/<n>/manifest.json   committed version (manifest written last)
    _models/<name>/versions/<n>/.claim.json     who claimed number n (until it commits)
    _models/<name>/versions/<n>/model/...       the serialized model, as the serializer wrote it
    _models/<name>/versions/<n>/input_example.parquet
    _models/<name>/events/<seq>.json            write-once history: registrations, aliases, ...
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import paths

MANIFEST = "manifest.json"
CLAIM = ".claim.json"
MODEL_DIR = "model"
INPUT_EXAMPLE = "input_example.parquet"
VERSIONS_DIR = "versions"
EVENTS_DIR = "events"

MANIFEST_FORMAT = "mmtop-model"
MANIFEST_VERSION = 1
EVENT_VERSION = 1

# A ref is `name`, `name/3` or `name@alias`: names and aliases stay clear of `/` and `@`.
# Matched with fullmatch: `$` also accepts a trailing newline.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ALIAS_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
_EVENT_RE = re.compile(r"([0-9]{8,})\.json")
RESERVED_ALIASES = ("latest",)


def check_model_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(
            "model name must be 1-128 letters, digits, '.', '_' or '-' "
            f"(starting with a letter or digit): {name!r}"
        )
    return name


def check_alias(alias: object) -> str:
    if not isinstance(alias, str) or not _ALIAS_RE.fullmatch(alias):
        raise ValueError(
            "alias must be 1-64 letters, digits, '.', '_' or '-', starting with a letter: "
            f"{alias!r}"
        )
    if alias in RESERVED_ALIASES:
        raise ValueError(f"alias {alias!r} is reserved: it always means the newest version")
    return alias


def check_target(target: object) -> str:
    """A deployment target (`prod`, `batch-nightly`, `eu-canary`): spelled like an alias."""
    if not isinstance(target, str) or not _ALIAS_RE.fullmatch(target):
        raise ValueError(
            f"bad deployment target {target!r}: 1-64 of A-Z a-z 0-9 . _ - starting with a letter"
        )
    return target


def check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"model version must be a whole number >= 1: {version!r}")
    return version


def registry_dir(root: Path) -> Path:
    return root / paths.MODELS_DIR


def model_dir(root: Path, name: str) -> Path:
    return registry_dir(root) / check_model_name(name)


def versions_dir(root: Path, name: str) -> Path:
    return model_dir(root, name) / VERSIONS_DIR


def version_dir(root: Path, name: str, version: int) -> Path:
    return versions_dir(root, name) / str(check_version(version))


def events_dir(root: Path, name: str) -> Path:
    return model_dir(root, name) / EVENTS_DIR


def event_name(seq: int) -> str:
    return f"{seq:08d}.json"


def event_seq(file_name: str) -> int | None:
    """The sequence number of an event file name; None for anything else (temporary files)."""
    match = _EVENT_RE.fullmatch(file_name)
    return int(match.group(1)) if match else None


def version_number(folder_name: str) -> int | None:
    """The version a `versions/` entry stands for; None for anything that is not a number."""
    if folder_name.isascii() and folder_name.isdigit() and not folder_name.startswith("0"):
        return int(folder_name)
    return None


def parse_ref(ref: str) -> tuple[str, int | str | None]:
    """`name` -> (name, None); `name/3` -> (name, 3); `name@alias` -> (name, "alias")."""
    text = ref.strip()
    if "@" in text:
        name, _, alias = text.partition("@")
        check_model_name(name)
        if alias == "latest":
            return name, None
        return name, check_alias(alias)
    if "/" in text:
        name, _, number = text.partition("/")
        check_model_name(name)
        found = version_number(number)
        if found is None:
            raise ValueError(f"bad model reference {ref!r}: version must be a number >= 1")
        return name, found
    return check_model_name(text), None
