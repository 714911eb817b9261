"""`mmtop compact`: merges leftover metric parts; histories read the same before and after."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mmtop import store
from mmtop.store import paths, schema


def leftover_parts(run_path: Path, writer: str, count: int) -> None:
    """Parts of a writer that died before compacting its own (as after a kill -9)."""
    folder = run_path / paths.METRICS_DIR
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for seq in range(1, count + 1):
        table = pa.table(
            {
                "step": [100 + seq],
                "time": [start + dt.timedelta(seconds=seq)],
                "key": ["late/loss"],
                "value": [1.0 / seq],
            },
            schema=schema.POINT_SCHEMA,
        )
        pq.write_table(table, folder / paths.part_name(writer, seq))


def test_compact_merges_parts_and_keeps_every_point(cli: Callable[..., Any], fresh: Any) -> None:
    st = store.open(fresh.root)
    info = st.run(fresh.ids["sgd-0.1"])
    leftover_parts(Path(info.path), "dead1", 3)
    before = cli("export", "--root", fresh.root, "--history", "-f", "jsonl").text
    parts_before = len(list((Path(info.path) / paths.METRICS_DIR).glob("*.parquet")))

    result = cli("compact", "--root", fresh.root, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.text)
    assert report["failed"] == []
    assert report["parts_before"] - report["parts_after"] >= 2
    parts_after = len(list((Path(info.path) / paths.METRICS_DIR).glob("*.parquet")))
    assert parts_after == parts_before - 2
    assert cli("export", "--root", fresh.root, "--history", "-f", "jsonl").text == before

    text = cli("compact", "--root", fresh.root).text
    assert "runs_compacted: 0" in text and "failed: 0" in text
