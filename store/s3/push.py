"""Writing a store on object storage: the ordinary writer writes into a private local staging
folder, and every write it makes there also goes to the object store (fsio's mirror hook), in
the form its rule takes there (docs/FORMAT.md, "Object storage"):

- parts (immutable, named by their writer): a conditional create (`If-None-Match: *`);
- create-once files (run.json at creation, params.json's first write, registry manifests and
  events, the store marker): a conditional create, the loser's local copy then holding the
  winner's object, exactly as a failed hard link leaves the winner's file;
- read-modify-write (run.json's status, writers and tags; params.json merges): compare-and-swap
  on the ETag, the change applied again to whatever another writer wrote in between;
- appends (notes.md, comments.jsonl): compare-and-swap of the whole object;
- heartbeats: a plain PUT of an empty object, its LastModified being the beat;
- everything else (summaries, checksums, env/code, tables): a plain PUT, whole.

The object is written before the local file, so what the staging folder holds is always on the
object store too: a writer killed with `kill -9` loses only points it had not flushed.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import StoreWriteError, first_line
from ..fsio import dumps
from ..objstore import MAX_SWAPS, ObjectRoot, backoff, redacted
from ..paths import CACHE_DIR, LOCK_FILE, PART_RE, TMP_SUFFIX
from ..safe_files import loads

# Any JSON the writer edits in place (run.json, params.json) is far below this.
MAX_EDITED_JSON = 64 << 20


@contextmanager
def remote_errors(url: str, key: str) -> Iterator[None]:
    """obstore's errors (a refused connection, a 403, a 500) as the StoreWriteError (an
    OSError) a failing disk would raise: the writer keeps the points and retries."""
    from obstore.exceptions import BaseError

    try:
        yield
    except BaseError as exc:
        raise StoreWriteError(f"{url}/{key}: {redacted(first_line(exc))}") from None


class Pusher:
    """The object-store side of one staging folder (an fsio.Mirror)."""

    def __init__(self, staging: Path, remote: ObjectRoot) -> None:
        self.staging = staging
        self.remote = remote
        self.puts = 0  # objects written: what a flush costs, in requests

    def key(self, path: Path) -> str:
        return path.relative_to(self.staging).as_posix()

    @staticmethod
    def local_only(key: str) -> bool:
        """A reader's cache, a lock file, a temporary file: never the store's objects."""
        name = key.rsplit("/", 1)[-1]
        return key.split("/", 1)[0] == CACHE_DIR or name == LOCK_FILE or name.endswith(TMP_SUFFIX)

    def put_file(self, path: Path, source: Path) -> None:
        key = self.key(path)
        if self.local_only(key):
            return
        self.puts += 1
        with remote_errors(self.remote.url, key):
            if PART_RE.fullmatch(path.name) is None:
                self.remote.put_file(key, str(source))
                return
            data = source.read_bytes()
            if self.remote.create_once(key, data):
                return
            # A retried upload whose first try reached the store: the same bytes are fine.
            found = self.remote.get(key)
        if found is None or found.data != data:
            raise StoreWriteError(f"{self.remote.url}/{key}: part exists with other points")

    def create(self, path: Path, data: bytes) -> bytes | None:
        key = self.key(path)
        self.puts += 1
        with remote_errors(self.remote.url, key):
            for _ in range(MAX_SWAPS):
                if self.remote.create_once(key, data):
                    return None
                found = self.remote.get(key)
                if found is not None:  # else deleted in between: try again
                    return found.data
        raise StoreWriteError(f"{self.remote.url}/{key}: created and deleted over and over")

    def update(self, path: Path, change: Callable[[Any], None]) -> Any:
        key = self.key(path)
        with remote_errors(self.remote.url, key):
            for attempt in range(MAX_SWAPS):
                found = self.remote.get(key)
                if found is None:
                    raise FileNotFoundError(
                        errno.ENOENT, "no such object", f"{self.remote.url}/{key}"
                    )
                doc = _parse(found.data, key)
                change(doc)
                self.puts += 1
                if self.remote.swap(key, dumps(doc), found.etag):
                    return doc
                backoff(attempt)
        raise StoreWriteError(f"{self.remote.url}/{key}: still contended after {MAX_SWAPS} tries")

    def append(self, path: Path, data: bytes) -> None:
        key = self.key(path)
        with remote_errors(self.remote.url, key):
            for attempt in range(MAX_SWAPS):
                found = self.remote.get(key)
                self.puts += 1
                if found is None:
                    if self.remote.create_once(key, data):
                        return
                elif self.remote.swap(key, found.data + data, found.etag):
                    return
                backoff(attempt)
        raise StoreWriteError(f"{self.remote.url}/{key}: still contended after {MAX_SWAPS} tries")

    def beat(self, path: Path) -> None:
        key = self.key(path)
        if self.local_only(key):
            return
        self.puts += 1
        with remote_errors(self.remote.url, key):
            self.remote.put(key, b"")

    def remove(self, path: Path) -> None:
        key = self.key(path)
        if self.local_only(key):
            return
        with remote_errors(self.remote.url, key):
            self.remote.delete(key)


def _parse(data: bytes, key: str) -> Any:
    if len(data) > MAX_EDITED_JSON:
        raise StoreWriteError(f"{key}: {len(data):,} bytes is too large to edit")
    try:
        doc = loads(data)
    except ValueError as exc:
        raise StoreWriteError(f"{key}: not JSON: {first_line(exc)}") from None
    if not isinstance(doc, dict):
        raise StoreWriteError(f"{key}: not a JSON object")
    return doc
