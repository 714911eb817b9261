"""A local read mirror of a store on object storage, for the ordinary reader to read.

The remote tree is copied into a cache folder outside the store (`$MMTOP_CACHE/s3/...`, else
`$XDG_CACHE_HOME/mmtop/s3/...`, else `~/.cache/mmtop/s3/...`), incrementally: an object is
downloaded again only when its ETag changed, objects that disappeared are deleted, and every
file is written whole (a temporary name, then a rename), so a reader of the mirror meets
what it meets on a disk that writers share. Each file's mtime is its object's LastModified:
a heartbeat object rewritten with the same (empty) body shows its progress as on a disk.

What is copied, and when, is the caller's choice (store/s3/reader.py): the root's marker,
experiment descriptions, the registry and datasets on every refresh; the run index beside
the tree (never inside it: the reader would take it for the local index); of each run, the
files `runs()` reads, or the whole folder once the run is opened.

Keys are untrusted: a key with an empty, `.` or `..` component, a dot-name (caches,
temporary files) or a NUL is never written, and no file is written, touched or deleted
through a link that leads out of the cache folder (one planted there), so nothing lands
outside it.
Objects are streamed to disk, never held whole in memory, and a JSON object is copied only up
to one byte past the reader's largest JSON cap: the reader refuses it as it would a local one.
Credentials and the endpoint come from the AWS environment and are written nowhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
from collections.abc import Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from .. import paths, safe_files
from ..errors import StoreError, first_line
from ..objstore import CHUNK, redacted

CACHE_ENV = "MMTOP_CACHE"
CONCURRENCY = 16  # requests in flight at once
# The largest cap the reader puts on a JSON file (store/safe_files.py).
MAX_JSON = max(
    safe_files.CAP_RUN_JSON,
    safe_files.CAP_PARAMS,
    safe_files.CAP_SUMMARY,
    safe_files.CAP_JSON,
    safe_files.CAP_ARTIFACTS,
)
# From this many runs to refresh in one experiment, one listing of the experiment is fewer
# requests than one listing per run.
MANY_RUNS = 8
# What `runs()` reads of a run folder (store/records.py) and its liveness (heartbeats).
RECORD_FILES = frozenset({paths.RUN_JSON, paths.PARAMS_JSON, paths.INPUTS_JSON, paths.HEARTBEAT})
RECORD_DIRS = frozenset({paths.SUMMARY_DIR, paths.HEARTBEATS_DIR})
INDEX = "index"  # <state>/index/_index/...: the remote run index, beside the tree
URL_RE = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?")

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """What the mirror knows of one object: enough to tell that it changed."""

    etag: str
    mtime_ns: int


@dataclass
class Listing:
    """The remote tree's folders, from one refresh."""

    runs: list[str] = field(default_factory=list)  # "experiment/run_id", sorted
    index: dict[str, Entry] = field(default_factory=dict)  # keys under _index/


def cache_home(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    xdg = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "mmtop"


def check_url(url: str) -> str:
    """`s3://bucket[/prefix]` without a trailing slash, or a one-line StoreError."""
    text = url.rstrip("/")
    m = URL_RE.fullmatch(text)
    if m is None or not all(safe_key(p) for p in (m["prefix"] or "x").split("/")):
        raise StoreError(f"store root {url!r}: expected s3://bucket or s3://bucket/prefix")
    return text


def safe_key(key: str) -> bool:
    """A key the mirror may write: relative, plain components, no dot-names."""
    return bool(key) and all(
        part and not part.startswith(".") and "\0" not in part and "\\" not in part
        for part in key.split("/")
    )


class Mirror:
    """The local copy of one `s3://bucket/prefix` store."""

    def __init__(self, url: str, cache: Path | None = None) -> None:
        self.url = check_url(url)
        try:
            from obstore.store import from_url
        except ImportError:
            raise StoreError(
                f"store root {self.url!r} is on object storage, which needs obstore: "
                "pip install 'mmtop[s3]'"
            ) from None
        # The endpoint picks the folder (two servers may hold buckets of the same name); it is
        # hashed, never written.
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT") or ""
        digest = hashlib.sha256(f"{endpoint}\n{self.url}".encode()).hexdigest()[:16]
        bucket = URL_RE.fullmatch(self.url)
        assert bucket is not None
        self.home = (cache or cache_home()) / "s3" / f"{bucket['bucket']}-{digest}"
        self.tree = self.home / "tree"
        self.index_root = self.home / INDEX
        with _remote(self.url):
            options: dict[str, Any] = {
                "client_options": _client_options(),
                "retry_config": {"max_retries": 3, "retry_timeout": _seconds(30)},
            }
            self._client = from_url(self.url, **options)
        self._lock = threading.RLock()
        self._manifest: dict[str, Entry] = {}
        self._dirty = False
        self.tree.mkdir(parents=True, exist_ok=True)
        self.index_root.mkdir(parents=True, exist_ok=True)
        self._load_manifest()
        self.requests = 0  # LIST and GET requests made: what a refresh costs
        self.gets = 0  # of which GETs
        self.changes = 0  # files written, touched or deleted: the app reloads when it moves

    # ----------------------------------------------------------------- manifest
    def _manifest_file(self) -> Path:
        return self.home / "manifest.json"

    def _load_manifest(self) -> None:
        try:
            doc = json.loads(self._manifest_file().read_bytes())
            objects = doc["objects"] if doc.get("url") == self.url else {}
            self._manifest = {
                str(k): Entry(str(v[0]), int(v[1]))
                for k, v in objects.items()
                if safe_key(str(k)) and (self._path(str(k))).exists()
            }
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            self._manifest = {}

    def save(self) -> None:
        """Write the manifest (what the next process need not download again)."""
        with self._lock:
            if not self._dirty:
                return
            doc = {
                "url": self.url,
                "objects": {k: [e.etag, e.mtime_ns] for k, e in self._manifest.items()},
            }
            _write_whole(self._manifest_file(), json.dumps(doc).encode(), self.home)
            self._dirty = False

    def _outside_checked(self, key: str) -> None:
        """OSError when `key`'s folder is a link out of the mirror (see _whole)."""
        if not safe_files.inside(self._path(key).parent, self.home):
            raise OSError(errno.ELOOP, "a link out of the mirror", key)

    def _path(self, key: str) -> Path:
        if key.startswith(paths.INDEX_DIR + "/"):
            return self.index_root / key
        return self.tree / key

    # ----------------------------------------------------------------- listing
    async def _ls(self, prefix: str) -> tuple[list[str], dict[str, Entry]]:
        """Folder names and objects (key -> Entry) directly under `prefix`."""
        import obstore

        self.requests += 1
        got = await obstore.list_with_delimiter_async(self._client, prefix.rstrip("/") or None)
        folders = [str(p).rstrip("/").rpartition("/")[2] for p in got["common_prefixes"]]
        return folders, {str(o["path"]): _entry(o) for o in got["objects"]}

    async def _walk(self, prefix: str) -> dict[str, Entry]:
        """Every object under `prefix`, recursively."""
        import obstore

        out: dict[str, Entry] = {}
        pages = 0
        async for batch in obstore.list(self._client, prefix.rstrip("/"), chunk_size=1000):
            pages += 1
            for o in batch:
                out[str(o["path"])] = _entry(o)
        self.requests += max(pages, 1)
        return out

    def list_store(self) -> Listing:
        """List the root and every experiment folder; copy the marker, experiment
        descriptions, the registry, datasets and the run index; forget what is gone."""
        with self._lock:
            return self._run(self._list_store())

    async def _list_store(self) -> Listing:
        folders, top = await self._ls("")
        if not folders and not top:
            raise StoreError(f"no store at {self.url}: nothing is stored under that prefix")
        exps = sorted(f for f in folders if safe_key(f) and not paths.is_hidden(f))
        special = [
            f for f in (paths.MODELS_DIR, paths.DATASETS_DIR, paths.INDEX_DIR) if f in folders
        ]
        listed, walks = await asyncio.gather(
            asyncio.gather(*(self._ls(f"{e}/") for e in exps)),
            asyncio.gather(*(self._walk(f"{s}/") for s in special)),
        )
        remote: dict[str, Entry] = {k: v for k, v in top.items() if k == paths.STORE_MARKER}
        out = Listing()
        runs: set[str] = set()
        for exp, (names, objects) in zip(exps, listed, strict=True):
            runs.update(f"{exp}/{n}" for n in names if safe_key(n))
            desc = f"{exp}/{paths.EXPERIMENT_JSON}"
            if desc in objects:
                remote[desc] = objects[desc]
        for name, walked in zip(special, walks, strict=True):
            if name == paths.INDEX_DIR:
                out.index = walked
            else:
                remote.update(walked)
        out.runs = sorted(runs)
        # Everything but run folders (pruned below, synced by sync_runs) and the index
        # (fetch_index) is mirrored whole on every refresh.
        self._forget(_in_run_or_index, remote)
        self._prune_folders(exps, runs)
        await self._fetch(remote)
        return out

    def fetch_index(self, keys: Iterable[str], listed: dict[str, Entry]) -> None:
        """Copy these run index objects beside the tree; drop the index objects not listed."""
        with self._lock:
            wanted = {k: listed[k] for k in keys if k in listed}
            self._forget(lambda key: not key.startswith(paths.INDEX_DIR + "/"), listed)
            self._run(self._fetch(wanted))

    def sync_runs(self, runs: Iterable[str], whole: Iterable[str] = ()) -> None:
        """Bring these runs' record files up to date (the whole folder for runs in `whole`)."""
        whole = set(whole)
        todo = sorted(set(runs) | whole)
        if not todo:
            return
        with self._lock:
            self._run(self._sync_runs(todo, whole))

    async def _sync_runs(self, runs: list[str], whole: set[str]) -> None:
        by_exp: dict[str, list[str]] = {}
        for run in runs:
            by_exp.setdefault(run.partition("/")[0], []).append(run)
        scopes = []
        for exp, members in by_exp.items():
            if len(members) >= MANY_RUNS:
                scopes.append((f"{exp}/", members))
            else:
                scopes.extend((f"{run}/", [run]) for run in members)
        walked = await asyncio.gather(*(self._walk(scope) for scope, _ in scopes))
        wanted: dict[str, Entry] = {}
        for (_, members), objects in zip(scopes, walked, strict=True):
            mine = set(members)
            for key, entry in objects.items():
                run, _, rest = key.partition("/")[2].partition("/")
                run = f"{key.partition('/')[0]}/{run}"
                if run in mine and (run in whole or _record(rest)):
                    wanted[key] = entry
            self._forget(lambda key, mine=mine: "/".join(key.split("/")[:2]) not in mine, objects)
        await self._fetch(wanted)

    # ----------------------------------------------------------------- copying
    def _forget(self, keep: Any, listed: dict[str, Entry]) -> None:
        """Delete mirrored objects that `keep(key)` does not vouch for and are not listed."""
        for key in [k for k in self._manifest if k not in listed and not keep(k)]:
            with contextlib.suppress(OSError):
                self._outside_checked(key)
                os.unlink(self._path(key))
            del self._manifest[key]
            self._dirty = True
            self.changes += 1

    def _prune_folders(self, exps: list[str], runs: set[str]) -> None:
        """Remove experiment and run folders (with what was copied of them) that are gone."""
        keep = set(exps)
        for exp in _subdirs(self.tree):
            if paths.is_hidden(exp):
                continue
            if exp not in keep:
                self._drop_folder(exp)
                continue
            for run in _subdirs(self.tree / exp):
                if f"{exp}/{run}" not in runs:
                    self._drop_folder(f"{exp}/{run}")

    def _drop_folder(self, rel: str) -> None:
        shutil.rmtree(self.tree / rel, ignore_errors=True)
        self.changes += 1
        for key in [k for k in self._manifest if k.startswith(rel + "/")]:
            del self._manifest[key]
            self._dirty = True

    async def _fetch(self, listed: dict[str, Entry]) -> None:
        """Download the listed objects whose ETag changed; touch those whose time alone did."""
        todo = []
        for key, entry in listed.items():
            if not safe_key(key):
                continue
            known = self._manifest.get(key)
            if known is not None and known.etag == entry.etag:
                if known.mtime_ns != entry.mtime_ns:
                    with contextlib.suppress(OSError):
                        self._outside_checked(key)
                        os.utime(self._path(key), ns=(entry.mtime_ns, entry.mtime_ns))
                    self._manifest[key] = entry
                    self._dirty = True
                    self.changes += 1
                continue
            todo.append(key)
        if not todo:
            return
        gate = asyncio.Semaphore(CONCURRENCY)
        await asyncio.gather(*(self._get(key, gate) for key in todo))

    async def _get(self, key: str, gate: asyncio.Semaphore) -> None:
        import obstore
        from obstore.exceptions import NotFoundError

        # JSON is read whole by the reader and refused over its cap: a copy cut one byte past
        # the largest cap is refused the same way, and a huge object costs neither memory
        # nor disk.
        limit = MAX_JSON + 1 if key.endswith(".json") else None
        async with gate:
            self.requests += 1
            self.gets += 1
            try:
                got = await obstore.get_async(self._client, key)
                entry = _entry(got.meta)
                with _whole(self._path(key), self.home, entry.mtime_ns) as out:
                    async for chunk in got.stream(min_chunk_size=CHUNK):
                        room = len(chunk) if limit is None else min(len(chunk), limit)
                        out.write(memoryview(chunk)[:room])
                        if limit is not None:
                            limit -= room
                            if not limit:
                                break
            except (NotFoundError, FileNotFoundError):
                return  # deleted since the listing: the next refresh forgets it
            except OSError:
                return  # a key that clashes with a folder (`a` and `a/b`): not a store file
        self._manifest[key] = entry
        self._dirty = True
        self.changes += 1

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        with _remote(self.url):
            try:
                return asyncio.run(work)
            finally:
                self.save()


def _in_run_or_index(key: str) -> bool:
    head = key.partition("/")[0]
    return head == paths.INDEX_DIR or (key.count("/") >= 2 and not paths.is_hidden(head))


def _record(rest: str) -> bool:
    """A path inside a run folder that `runs()` reads."""
    head, _, tail = rest.partition("/")
    return (not tail and head in RECORD_FILES) or (bool(tail) and head in RECORD_DIRS)


def _entry(meta: Any) -> Entry:
    modified = meta["last_modified"]
    ns = int(modified.timestamp() * 1_000_000) * 1000
    return Entry(str(meta.get("e_tag") or ""), ns)


def _write_whole(dest: Path, data: bytes, home: Path) -> None:
    with _whole(dest, home) as out:
        out.write(data)


@contextlib.contextmanager
def _whole(dest: Path, home: Path, mtime_ns: int | None = None) -> Iterator[BinaryIO]:
    """A file written to a temporary name and renamed to `dest` once whole; never through a
    link that leads out of `home` (a cache folder in a shared place may have been planted)."""
    if not safe_files.inside(dest.parent, home):
        raise OSError(errno.ELOOP, "a link out of the mirror: not written through", str(dest))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with open(fd, "wb") as f:
            yield f
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _subdirs(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as it:
            return [e.name for e in it if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _client_options() -> dict[str, Any]:
    """Timeouts a terminal user can wait for. Options given here replace the client options
    obstore reads from the environment, so AWS_ALLOW_HTTP (a local server) is passed on."""
    options: dict[str, Any] = {"connect_timeout": "10s", "timeout": "60s"}
    if os.environ.get("AWS_ALLOW_HTTP", "").lower() == "true":
        options["allow_http"] = True
    return options


def _seconds(n: float) -> Any:
    import datetime as dt

    return dt.timedelta(seconds=n)


@contextlib.contextmanager
def _remote(url: str) -> Iterator[None]:
    """obstore's errors as one-line StoreErrors, with any credential value taken out."""
    try:
        from obstore.exceptions import BaseError
    except ImportError:  # pragma: no cover - checked when the mirror is made
        yield
        return
    try:
        yield
    except BaseError as exc:
        if not os.environ.get("AWS_ACCESS_KEY_ID") and _no_credentials(str(exc)):
            raise StoreError(
                f"cannot read {url}: no AWS credentials (set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or run where an instance role provides them)"
            ) from None
        raise StoreError(f"cannot read {url}: {_short(exc)}") from None


def _no_credentials(text: str) -> bool:
    """obstore found no keys and failed to ask the instance metadata service for some."""
    low = text.lower()
    return any(s in low for s in ("/latest/api/token", "/latest/meta-data", "credential"))


def _short(exc: BaseException) -> str:
    """The server's own words where it gave some (NoSuchBucket, AccessDenied, ...)."""
    text = redacted(str(exc))  # before it is cut short, which could leave half a secret
    code = re.search(r"<Code>([A-Za-z]{1,64})</Code>", text)
    message = re.search(r"<Message>([^<]{1,200})</Message>", text)
    if code:
        return code[1] + (f": {message[1]}" if message else "")
    return first_line(RuntimeError(text))[:300]
