"""`mmtop compact` on `s3://`: a run index snapshot written to the object store.

Writers on object storage add `_index/log/` entries and fold them only every COMPACT_AT
entries or so (store/s3/index_push.py); until then a reader copies the record files of the
runs the entries name on a cold open. Here every run's record files are read (through the
mirror), the runs frame is built by the ordinary reader, and it is written as
`_index/runs-v2-<upto>-<rows>.parquet` with a conditional create; then older snapshots and
the entries it covers are deleted. The per-run files stay the truth: a reader re-reads any
run an entry newer than `upto` names.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from .. import paths, run_index
from ..frame_cache import FrameCache
from ..objstore import ObjectRoot
from ..reader import Store
from .reader import S3Store


def fold(url: str) -> int:
    """Write a new snapshot of the store at `url`; the number of runs it holds."""
    st = S3Store(url, cache=False)
    listing = st.mirror.list_store()
    # Every entry listed now is covered: the runs they name are read below, after it.
    upto = max(
        [time.time_ns()]
        + [
            int(m["ns"])
            for key in listing.index
            if (m := run_index.ENTRY_RE.fullmatch(key.rpartition("/")[2]))
        ]
    )
    listed_ns = time.time_ns()
    st.mirror.sync_runs(listing.runs)
    reader = Store(st.mirror.tree, cache=False)
    reader.runs()
    keyed = reader._base
    if keyed is None:
        return 0
    import polars as pl

    prefix = str(st.mirror.tree) + "/"
    rel = keyed.with_frame(keyed.frame.with_columns(pl.col("path").str.slice(len(prefix))))
    name = f"runs-v{run_index.LAYOUT}-{upto:020d}-{rel.height}.parquet"
    with tempfile.TemporaryDirectory(prefix="mmtop-fold-") as tmp:
        cache = FrameCache(Path(tmp))
        cache.file = Path(tmp) / name
        cache.save(
            rel,
            {
                run_index.FOLDERS_KEY: json.dumps({}),
                run_index.LISTED_KEY: str(listed_ns),
                run_index.UNREAD_KEY: json.dumps([]),
            },
        )
        data = cache.file.read_bytes()
    remote = ObjectRoot(st.url)
    remote.create_once(f"{paths.INDEX_DIR}/{name}", data)
    snaps = sorted(
        (
            (int(m["upto"]), key)
            for key in listing.index
            if (m := run_index.SNAPSHOT_RE.fullmatch(key.rpartition("/")[2]))
        ),
        reverse=True,
    )
    for _, key in snaps[run_index.KEEP_SNAPSHOTS - 1 :]:
        remote.delete(key)
    for key in listing.index:
        m = run_index.ENTRY_RE.fullmatch(key.rpartition("/")[2])
        if m and key.count("/") == 2 and int(m["ns"]) <= upto:
            remote.delete(key)
    return rel.height
