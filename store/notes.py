"""What people add to a run, from any process, while it may still be live: notes, comments, tags.

Every change is atomic: notes and comments are appended with one O_APPEND write under the
run folder's lock, tags are a locked read-modify-write of run.json (the same lock the writer
takes when it records the final status, so neither loses the other's change).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import paths
from .errors import ReadOnlyStoreError, RunNotFoundError
from .fsio import append_text, update_json
from .ids import hostname, username
from .names import check_text
from .safe_files import loads

MAX_NOTE = 1_000_000


def _check_writable(run: Path) -> None:
    if not run.is_dir():
        raise RunNotFoundError(f"run folder {run} no longer exists (moved or deleted?)")
    if not os.access(run, os.W_OK):
        raise ReadOnlyStoreError(f"cannot write to run folder {run}: the store is read-only")


def _check_body(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ValueError(f"{what} must not be empty")
    if len(text) > MAX_NOTE:
        raise ValueError(f"{what} is longer than {MAX_NOTE} characters")
    return text


def add_note(run: Path, text: str) -> None:
    """Append a dated section to notes.md (issues met, how they were solved, evaluation)."""
    _check_writable(run)
    body = _check_body(text, "note").rstrip("\n")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    append_text(run / paths.NOTES_MD, f"\n## {stamp}\n\n{body}\n")


def add_comment(run: Path, text: str, author: str | None = None) -> dict[str, Any]:
    _check_writable(run)
    entry = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "author": check_text(author, "author") if author else f"{username()}@{hostname()}",
        "text": _check_body(text, "comment"),
    }
    append_text(run / paths.COMMENTS_JSONL, json.dumps(entry, ensure_ascii=False) + "\n")
    return entry


def parse_comments(raw: str) -> list[dict[str, Any]]:
    """Comments in order; a torn or invalid line (a writer killed mid-way) is skipped."""
    out = []
    for line in raw.splitlines():
        try:
            entry = loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("text"), str):
            out.append(entry)
    return out


def change_tags(run: Path, add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[str]:
    """Add and remove tags atomically; returns the tags now on the run, in order."""
    _check_writable(run)
    adding = [check_text(t, "tag") for t in add]
    removing = set(remove)

    def change(meta: dict[str, Any]) -> None:
        tags = [t for t in meta.get("tags") or [] if t not in removing]
        tags += [t for t in adding if t not in tags]
        meta["tags"] = tags

    tags = list(update_json(run / paths.RUN_JSON, change)["tags"])
    touch_parent(run)
    return tags


def touch_parent(run: Path) -> None:
    """Bump the experiment folder's mtime: watchers follow experiment folders, not every run."""
    try:
        os.utime(run.parent)
    except OSError:
        pass
