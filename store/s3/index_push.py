"""The run index of a store on object storage, folded by the writers as their runs end.

The rule is the local one (store/run_index.py, `due`): once the log entries after the newest
snapshot number at least COMPACT_AT and a fiftieth of its rows, the writer whose run ends (not
`killed`) folds them with `mmtop compact`'s fold (store/s3/fold.py). One writer at a time: the
fold is claimed with a conditional create of `_index/folding.json`, taken over once it is
older than CLAIM_STALE_AFTER (its writer died). The index only saves readers time, so nothing
here fails the run.
"""

from __future__ import annotations

import secrets
import time

from .. import paths, run_index
from ..errors import StoreError
from ..objstore import ObjectRoot

CLAIM_KEY = f"{paths.INDEX_DIR}/{run_index.CLAIM}"


def due(remote: ObjectRoot) -> bool:
    """`run_index.due` over the object store's listing of `_index/`."""
    _, snaps = remote.list(paths.INDEX_DIR)
    _, log = remote.list(f"{paths.INDEX_DIR}/log")
    newest = max(
        (
            (int(m["upto"]), int(m["rows"]))
            for key in snaps
            if (m := run_index.SNAPSHOT_RE.fullmatch(key.rpartition("/")[2]))
        ),
        default=(-1, 0),
    )
    after = [
        key
        for key in log
        if (m := run_index.ENTRY_RE.fullmatch(key.rpartition("/")[2])) and int(m["ns"]) > newest[0]
    ]
    return len(after) >= max(run_index.COMPACT_AT, newest[1] // 50)


def fold_if_due(url: str) -> bool:
    """Fold the index of the store at `url` when due; True if this call folded it."""
    import polars as pl
    from obstore.exceptions import BaseError

    try:
        remote = ObjectRoot(url)
        if not due(remote):
            return False
        token = secrets.token_hex(8).encode()
        if not remote.create_once(CLAIM_KEY, token) and not take_over(remote, token):
            return False  # another writer is folding now
        try:
            from .fold import fold

            fold(url)
        finally:
            claim = remote.get(CLAIM_KEY)
            if claim is not None and claim.data == token:
                remote.delete(CLAIM_KEY)
        return True
    except (OSError, ValueError, StoreError, BaseError, pl.exceptions.PolarsError):
        return False


def take_over(remote: ObjectRoot, token: bytes) -> bool:
    """Replace a stale claim with ours by compare-and-swap on the ETag it was read with: of
    writers that found it stale at once, one takes it (a delete, then a create, would let
    the second delete the first's new claim and both fold)."""
    found = remote.get(CLAIM_KEY)
    if found is None:
        return remote.create_once(CLAIM_KEY, token)
    return _stale(remote) and remote.swap(CLAIM_KEY, token, found.etag)


def _stale(remote: ObjectRoot) -> bool:
    """A claim older than CLAIM_STALE_AFTER (its LastModified against this host's clock:
    a claim is only ever taken over after minutes, far beyond clock skew)."""
    modified = remote.modified(CLAIM_KEY)
    return modified is None or time.time() - modified > run_index.CLAIM_STALE_AFTER
