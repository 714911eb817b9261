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
from .push import Pusher, remote_errors
from .remote_run import Staging, find_run, local_path, pull

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


@contextmanager
def staged_model(url: str, ref: str, new: bool = False) -> Iterator[Any]:
    """A local `Store` over a staging folder holding the registry of the model `ref` names
    (its events, and each version's manifest and baseline, not its model files): registry
    writes on it (aliases, tags, deployments, registrations) go to the object store, each
    event a conditional create of the next sequence number and each new version's number a
    conditional create of its claim. `new`: the model need not exist yet."""
    from ..reader import Store
    from ..registry import layout
    from ..registry.errors import ModelNotFoundError

    name = layout.parse_ref(ref)[0]
    staging = Staging(url)
    try:
        pull(staging.remote, staging.folder, paths.STORE_MARKER)
        if not pull_model(staging, name) and not new:
            raise ModelNotFoundError(f"no model named {name!r} in {staging.url}")
        yield Store(staging.folder, cache=False)
    finally:
        staging.close()


def pull_model(staging: Staging, name: str) -> bool:
    """Copy the registry of model `name` (its events, and each version's manifest and
    baseline, not its model files) into the staging folder; False when there is none."""
    from ..registry import layout

    model = f"{paths.MODELS_DIR}/{layout.check_model_name(name)}/"
    with remote_errors(staging.url, model):
        found = staging.remote.walk(model)
    for key, modified in found:
        rest = key[len(model) :].split("/")
        if rest[0] == layout.EVENTS_DIR or (rest[0] == layout.VERSIONS_DIR and len(rest) == 3):
            local_path(staging.folder, key)  # refuses a key leading out of the folder
            pull(staging.remote, staging.folder, key, modified)
    return bool(found)


def register(url: str, name: str, model: Any, **kwargs: Any) -> int:
    """Register `model` as the next version of `name` on the store at `url` (the
    registry's `register` in a staging folder); its number."""
    from ..registry.register import register as register_local

    with staged_model(url, name, new=True) as st:
        return register_local(st.root, name, model, **kwargs)


def register_dataset(url: str, name: str, source: Any, **kwargs: Any) -> int:
    """Register `source` as a version of dataset `name` on the store at `url` (or find the
    version holding the same content); its number. The committed manifests are staged, so
    the fingerprint is looked up as on a disk; the number is claimed by a conditional create."""
    from ..datasets import layout
    from ..datasets.register import register as register_local

    staging = Staging(url)
    try:
        pull(staging.remote, staging.folder, paths.STORE_MARKER)
        versions = f"{paths.DATASETS_DIR}/{layout.check_dataset_name(name)}/versions/"
        with remote_errors(staging.url, versions):
            found = staging.remote.walk(versions)
        for key, modified in found:
            rest = key[len(versions) :].split("/")
            if len(rest) == 2 and rest[1] == layout.MANIFEST:
                local_path(staging.folder, key)  # refuses a key leading out of the folder
                pull(staging.remote, staging.folder, key, modified)
        return register_local(staging.folder, name, source, **kwargs)[0]
    finally:
        staging.close()


def model_write(url: str, ref: str, method: str, *args: Any, **kwargs: Any) -> Any:
    """`Store.<method>(*args, **kwargs)` (a registry write) on the model `ref` names, on the
    store at `url`."""
    with staged_model(url, ref) as st:
        return getattr(st, method)(*args, **kwargs)
