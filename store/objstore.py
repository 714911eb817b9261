"""The store's file primitives on S3-compatible object storage (`s3://bucket/prefix`).

Object stores have no rename, no flock and no hard links. The format stays the same
(docs/FORMAT.md, "Object storage"); what changes is how a file is made to appear whole, once:

- create-once files (run.json at creation, parts, manifests, registry events, index log
  entries): a PUT with `If-None-Match: *`; a 412 means another writer created it first,
  exactly as a failed hard link does on a disk;
- read-modify-write files (run.json's status, tags and writers, params.json merges): a GET,
  the change, and a PUT with `If-Match: <ETag of what was read>`; a 412 means someone else
  wrote in between, so the change is applied again to what they wrote (compare-and-swap,
  instead of the lock file);
- everything else is replaced whole by a plain PUT (a PUT is atomic on S3).

The client is obstore (the Python binding of the Rust `object_store` crate that polars'
own `scan_parquet("s3://...")` uses): it exposes both conditional PUTs, LIST with a
delimiter and ranged GETs, and takes credentials and the endpoint from the usual AWS
environment (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, `AWS_REGION`, ...). Nothing about
credentials is stored in the store or logged.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import StoreError, StoreWriteError

# (key, LastModified in epoch seconds); named here because the class's `list` shadows the type.
Walk = list[tuple[str, float]]

MAX_SWAPS = 64  # compare-and-swap attempts before a change is given up as contended
CHUNK = 1 << 20  # bytes of an object held in memory at once while it is downloaded
CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# `user:password@` of a URL (an endpoint such as http://key:secret@host:9000 in an error).
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def backoff(attempt: int) -> None:
    """The pause after a lost compare-and-swap: jittered, so that writers that lost together
    do not collide again together."""
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))


def redacted(text: str) -> str:
    """`text` (an obstore error, say) without a URL's user:password or any credential value
    from the environment: errors are printed and logged."""
    text = _USERINFO.sub("***@", text)
    for name in CREDENTIAL_ENV:
        value = os.environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


@dataclass(frozen=True)
class Stored:
    data: bytes
    etag: str


class ObjectRoot:
    """A store root on object storage, addressed by keys relative to it (`exp/run/run.json`)."""

    def __init__(self, url: str) -> None:
        try:
            from obstore.store import from_url
        except ImportError:
            raise StoreError(
                f"store root {url!r} is on object storage, which needs obstore: "
                "pip install 'mmtop[s3]'"
            ) from None
        if not url.startswith("s3://") or len(url) <= len("s3://"):
            raise StoreError(f"store root {url!r}: only s3://bucket[/prefix] URLs are supported")
        self.url = url.rstrip("/")
        self._store = from_url(self.url)

    def create_once(self, key: str, data: bytes) -> bool:
        """Create `key` holding `data` unless it exists; True if this call created it."""
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            obstore.put(self._store, key, data, mode="create")
        except (AlreadyExistsError, PreconditionError):
            return False
        return True

    def put(self, key: str, data: bytes) -> str:
        """Replace `key` whole; its new ETag."""
        import obstore

        return str(obstore.put(self._store, key, data)["e_tag"])

    def get(self, key: str) -> Stored | None:
        """What `key` holds and its ETag, or None when it does not exist."""
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            got = obstore.get(self._store, key)
        except (NotFoundError, FileNotFoundError):
            return None
        return Stored(bytes(got.bytes()), str(got.meta["e_tag"]))

    def download(self, key: str, dest: Path) -> bool:
        """Copy `key` into the local file `dest` a chunk at a time (an object may be a model
        of many GB); False when it does not exist."""
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            got = obstore.get(self._store, key)
        except (NotFoundError, FileNotFoundError):
            return False
        with open(dest, "wb") as f:
            for chunk in got.stream(min_chunk_size=CHUNK):
                f.write(memoryview(chunk))
        return True

    def swap(self, key: str, data: bytes, etag: str | None) -> bool:
        """Write `key` only if it still has `etag` (None: only if it does not exist)."""
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        if etag is None:
            return self.create_once(key, data)
        try:
            obstore.put(self._store, key, data, mode={"e_tag": etag})
        except (PreconditionError, AlreadyExistsError):
            return False
        return True

    def update_json(self, key: str, change: Callable[[Any], Any]) -> Any:
        """Apply `change` to the JSON document at `key` (None when absent) and write the
        result with compare-and-swap, again on top of any write that came in between.

        `change` returns the new document; it may be called several times, so it must only
        depend on what it is given. Returns the document written.
        """
        for attempt in range(MAX_SWAPS):
            found = self.get(key)
            doc = json.loads(found.data) if found is not None else None
            new = change(doc)
            data = json.dumps(new, ensure_ascii=False, indent=1).encode("utf-8")
            if self.swap(key, data, found.etag if found is not None else None):
                return new
            backoff(attempt)
        raise StoreWriteError(f"{self.url}/{key}: still contended after {MAX_SWAPS} attempts")

    def list(self, prefix: str = "") -> tuple[list[str], list[str]]:
        """(folders, objects) directly under `prefix` (names relative to the root)."""
        import obstore

        got = obstore.list_with_delimiter(self._store, prefix.rstrip("/") or None)
        objects = [str(o["path"]) for o in got["objects"]]
        return [str(p) for p in got["common_prefixes"]], objects

    def walk(self, prefix: str) -> Walk:
        """Every object under `prefix` (recursively): its key and LastModified (epoch s)."""
        import obstore

        found: Walk = []
        for batch in obstore.list(self._store, prefix.rstrip("/") or None, chunk_size=1000):
            for meta in batch:
                found.append((str(meta["path"]), meta["last_modified"].timestamp()))
        return found

    def exists(self, key: str) -> bool:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            obstore.head(self._store, key)
        except (NotFoundError, FileNotFoundError):
            return False
        return True

    def modified(self, key: str) -> float | None:
        """`key`'s LastModified (epoch seconds, the server's clock), None when absent."""
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            return float(obstore.head(self._store, key)["last_modified"].timestamp())
        except (NotFoundError, FileNotFoundError):
            return None

    def put_file(self, key: str, source: str) -> None:
        """Replace `key` with the bytes of the local file `source` (multipart when big)."""
        import obstore

        obstore.put(self._store, key, Path(source))

    def delete(self, key: str) -> None:
        """Delete `key`; absent is fine (S3's DELETE is idempotent)."""
        import obstore
        from obstore.exceptions import NotFoundError

        with contextlib.suppress(NotFoundError, FileNotFoundError):
            obstore.delete(self._store, key)
