"""Attacks on metric histories: names that look like glob patterns, damaged and foreign parts,
single-byte flips, and compaction running beside readers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from mmtop import store

NO_CAPTURE = {"capture_env": False, "capture_code": False, "capture_system": False}


def _log_run(root: Path, experiment: str = "exp", steps: int = 50, **kw: object) -> store.Run:
    with store.Run(experiment=experiment, root=root, **NO_CAPTURE, **kw) as run:  # type: ignore[arg-type]
        for step in range(steps):
            run.log({"a": step * 0.5, "b": -float(step)}, step=step)
    return run


def _parts(run: store.Run) -> list[Path]:
    return sorted((run.path / "metrics").glob("*.parquet"))


# -- checksums written -----------------------------------------------------------------------


def test_every_part_has_its_sha256_recorded_beside_it(root: Path) -> None:
    run = store.Run(experiment="exp", root=root, flush_every=600, **NO_CAPTURE)
    for step in range(3):
        run.log({"a": float(step)}, step=step)
        run.flush()
    run.finish()
    folder = run.path / "metrics"
    lines = (folder / f"{run.writer_id}.sha256").read_text().splitlines()
    want = sorted(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}" for p in _parts(run))
    assert len(want) == 1  # finish() compacted the three flushes: only the merged part's line
    assert sorted(lines) == want


def test_a_flipped_byte_in_a_data_page_fails_its_page_checksum(root: Path) -> None:
    run = _log_run(root)
    (part,) = _parts(run)
    chunk = pq.ParquetFile(part).metadata.row_group(0).column(3)  # value
    data = bytearray(part.read_bytes())
    data[chunk.data_page_offset + chunk.total_compressed_size - 1] ^= 0x40
    part.write_bytes(bytes(data))
    with pytest.raises(OSError, match="CRC"):
        pq.ParquetFile(part, page_checksum_verification=True).read()
