"""Edits of a run on object storage by anyone (tags, comments, notes), not only its writer.

Each edit stages the few objects it changes (run.json, comments.jsonl, notes.md) in a fresh
staging folder and applies the ordinary edit (store/notes.py) there; the mirror turns the
read-modify-write into a compare-and-swap on the object store, so edits from many processes,
and the writer's own updates of run.json, never lose one another.

A reader of a store on object storage (the app, through `Store.add_tags` / `comment`) uses
these, or attaches a `Pusher` to its own local copy (`attach`) so that its edits go through
the same mirror.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import notes, paths, run_index
from ..errors import RunNotFoundError
from ..fsio import attach_mirror
from ..names import check_run_id
from ..objstore import ObjectRoot
from .push import Pusher
from .remote_run import Staging, find_run, pull

# What an edit reads before it changes anything: run.json for tags, the others to append to.
EDITED = (paths.RUN_JSON, paths.COMMENTS_JSONL, paths.NOTES_MD)


def attach(folder: Path, url: str) -> Pusher:
    """Mirror every store write under the local copy `folder` of the store at `url`."""
    pusher = Pusher(folder.resolve(), ObjectRoot(url))
    attach_mirror(pusher.staging, pusher)
    return pusher


@contextmanager
def staged_run(url: str, run_id: str) -> Iterator[tuple[Staging, Path]]:
    """The run `run_id` of the store at `url`, staged for an edit; the folder goes after."""
    staging = Staging(url)
    try:
        experiment = find_run(staging.remote, check_run_id(run_id))
        if experiment is None:
            raise RunNotFoundError(f"no run {run_id!r} in {staging.url}")
        folder = staging.folder / experiment / run_id
        for name in EDITED:
            pull(staging.remote, staging.folder, f"{experiment}/{run_id}/{name}")
        yield staging, folder
    finally:
        staging.close()


def add_tags(url: str, run_id: str, tags: Iterable[str]) -> list[str]:
    return change_tags(url, run_id, add=tags)


def remove_tags(url: str, run_id: str, tags: Iterable[str]) -> list[str]:
    return change_tags(url, run_id, remove=tags)


def change_tags(
    url: str, run_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()
) -> list[str]:
    """The run's tags after the change, as on the object store."""
    with staged_run(url, run_id) as (staging, folder):
        tags = notes.change_tags(folder, add=add, remove=remove)
        run_index.note(staging.folder, run_id, folder.parent.name, "tags")
        staging.push_index_log()
        return tags


def comment(url: str, run_id: str, text: str, author: str | None = None) -> dict[str, Any]:
    with staged_run(url, run_id) as (_, folder):
        return notes.add_comment(folder, text, author)


def note(url: str, run_id: str, text: str) -> None:
    with staged_run(url, run_id) as (_, folder):
        notes.add_note(folder, text)
