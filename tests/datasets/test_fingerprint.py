"""Fingerprints: the same data gives the same fingerprint whatever library, process or
chunking it came from; files hash as streams in bounded memory."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from mmtop.store.datasets import sources
from mmtop.store.datasets.fingerprint import hash_folder


def _fp(source: object) -> str:
    return str(sources.describe(source)["fingerprint"])


def test_polars_pandas_and_arrow_inputs_of_the_same_data_agree(digits_frame: pd.DataFrame) -> None:
    frame = digits_frame.copy()
    frame["name"] = ["a", None, "ccc"] * (len(frame) // 3)
    frame["kind"] = pd.Categorical(frame["name"])
    frame["when"] = pd.date_range("2026-01-01", periods=len(frame), freq="h")
    frame["score"] = np.where(np.arange(len(frame)) % 7 == 0, np.nan, 0.5)
    frame["count"] = pd.array([1, None, 3] * (len(frame) // 3), dtype="Int64")
    frame["flag"] = np.arange(len(frame)) % 2 == 0
    polars = pl.from_pandas(frame)
    chunked = pl.concat([polars.head(100), polars.slice(100)], rechunk=False)
    assert chunked.n_chunks() == 2
    prints = {
        _fp(frame),
        _fp(polars),
        _fp(chunked),
        _fp(pa.Table.from_pandas(frame, preserve_index=False)),
        _fp(polars.to_arrow()),
    }
    assert len(prints) == 1
    assert next(iter(prints)).startswith("sha256:")


def test_fingerprint_is_the_same_in_another_process(digits_frame: pd.DataFrame) -> None:
    code = (
        "import json, sys\n"
        "from sklearn.datasets import load_digits\n"
        "from mmtop.store.datasets import sources\n"
        "f = load_digits(as_frame=True).frame\n"
        "f.insert(0, 'id', range(len(f)))\n"
        "print(json.dumps(sources.describe(f)['fingerprint']))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(out.stdout) == _fp(digits_frame)


def test_changed_value_type_or_name_changes_the_fingerprint(digits_frame: pd.DataFrame) -> None:
    base = pl.from_pandas(digits_frame)
    relabelled = base.with_columns(
        pl.when(pl.col("id") == 5).then((pl.col("target") + 1) % 10).otherwise(pl.col("target"))
    )
    retyped = base.with_columns(pl.col("target").cast(pl.Int32))
    renamed = base.rename({"target": "label"})
    nulled = base.with_columns(pl.when(pl.col("id") == 0).then(None).otherwise(pl.col("target")))
    prints = [_fp(f) for f in (base, relabelled, retyped, renamed, nulled)]
    assert len(set(prints)) == 5


def test_values_under_nulls_do_not_count() -> None:
    # Arrow leaves the value slot of a null undefined: two producers may put anything there.
    zeros = pa.Array.from_buffers(
        pa.int64(), 3, [pa.py_buffer(bytes([0b101])), pa.py_buffer(np.array([1, 0, 3]).tobytes())]
    )
    junk = pa.Array.from_buffers(
        pa.int64(), 3, [pa.py_buffer(bytes([0b101])), pa.py_buffer(np.array([1, 99, 3]).tobytes())]
    )
    assert _fp(pa.table({"x": zeros})) == _fp(pa.table({"x": junk}))
    assert _fp(pa.table({"x": zeros})) != _fp(pa.table({"x": [1, 0, 3]}))


def test_numpy_arrays_are_columns_0_to_k() -> None:
    array = np.arange(12, dtype=np.float64).reshape(4, 3)
    frame = pl.DataFrame({str(i): array[:, i] for i in range(3)})
    assert _fp(array) == _fp(frame)
    assert sources.describe(array)["schema"] == {"0": "double", "1": "double", "2": "double"}
    empty = sources.describe(np.zeros((0, 2, 2)))
    assert (empty["rows"], list(empty["schema"])) == (0, ["0", "1", "2", "3"])
    assert sources.describe(np.arange(3))["schema"] == {"0": "int64"}


def test_file_fingerprint_is_what_sha256sum_prints(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(b"id,x\n" + b"".join(f"{i},{i * 0.5}\n".encode() for i in range(10_000)))
    found = sources.describe(path)
    assert found["fingerprint"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert (found["kind"], found["rows"], found["schema"]) == (
        "file",
        10_000,
        {"id": "int64", "x": "double"},
    )
    if shutil.which("sha256sum"):
        printed = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True)
        assert found["fingerprint"] == "sha256:" + printed.stdout.split()[0]


def test_folder_fingerprint_follows_paths_and_contents(tmp_path: Path) -> None:
    a = tmp_path / "a"
    (a / "part").mkdir(parents=True)
    (a / "part" / "1.csv").write_text("x\n1\n")
    (a / "2.csv").write_text("x\n2\n")
    (a / ".hidden").write_text("editor state")
    digest, files = hash_folder(a)
    assert [f["path"] for f in files] == ["2.csv", "part/1.csv"]
    lines = "".join(f"{f['path']}\0{f['sha256']}\n" for f in files)
    assert digest == hashlib.sha256(lines.encode()).hexdigest()
    described = sources.describe(a)
    assert (described["files"], described["rows"], described["schema"]) == (2, 2, {"x": "int64"})
    (a / "2.csv").write_text("x\n3\n")
    assert hash_folder(a)[0] != digest


GIB = 1 << 30


def test_a_1_gib_file_is_hashed_in_bounded_memory(tmp_path: Path) -> None:
    """The peak memory of a child hashing a 1 GiB file stays a few MiB above its start."""
    path = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    try:
        with open(path, "wb") as f:
            for _ in range(GIB // len(block)):
                f.write(block)
        code = (
            "import json, resource, sys, tracemalloc\n"
            "from mmtop.store.datasets.fingerprint import hash_file\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "tracemalloc.start()\n"
            "digest = hash_file(sys.argv[1])\n"
            "peak = tracemalloc.get_traced_memory()[1]\n"
            "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print(json.dumps([digest, peak, (after - before) * 1024]))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
        )
        digest, traced_peak, rss_growth = json.loads(out.stdout)
        assert len(digest) == 64
        assert path.stat().st_size == GIB
        assert traced_peak < 8 << 20  # one 4 MiB block and small change
        assert rss_growth < 32 << 20  # the file is 1024 MiB
    finally:
        path.unlink(missing_ok=True)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_snapshot_of_a_file_reads_back_the_same_table(tmp_path: Path, suffix: str) -> None:
    frame = pl.DataFrame({"id": [1, 2, 3], "label": ["a", "b", "c"]})
    path = tmp_path / f"data{suffix}"
    frame.write_parquet(path) if suffix == ".parquet" else frame.write_csv(path)
    target = tmp_path / "snap.parquet"
    sources.write_snapshot(path, target)
    assert pl.read_parquet(target).equals(frame)
