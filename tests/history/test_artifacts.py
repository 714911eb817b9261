"""Artifacts (files and folders copied into a run) and datasets (fingerprints of the data a run
used), read back through `store.open(root)`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmtop import store


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def every_file(folder: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file below `folder` (the store's lock files aside)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "src" / "model"
    (folder / "weights").mkdir(parents=True)
    (folder / "config.json").write_text('{"layers": 3}')
    (folder / "weights" / "w0.bin").write_bytes(bytes(range(256)) * 40)
    (folder / "weights" / "empty.bin").write_bytes(b"")
    return folder


# ----------------------------------------------------------------------------- artifacts
def test_file_artifact_is_copied_with_size_and_sha256(
    new_run: Any, root: Path, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    source = tmp_path / "model.pt"
    source.write_bytes(data)
    with new_run() as run:
        entry = run.log_artifact(source)
    [stored] = store.open(root).run(run.run_id).artifacts
    assert stored == entry
    assert stored["name"] == "model.pt"
    assert stored["kind"] == "file"
    assert stored["path"] == "artifacts/model.pt"
    assert stored["size"] == len(data)
    assert stored["sha256"] == sha256(data)
    assert stored["source"] == str(source.resolve())
    copy = run.path / stored["path"]
    assert copy.read_bytes() == data
    assert sha256(copy.read_bytes()) == stored["sha256"]  # the copy, not just the source
    assert list((run.path / "artifacts").iterdir()) == [copy]  # no staging file left


def test_folder_artifact_records_every_file(new_run: Any, root: Path, model_folder: Path) -> None:
    with new_run() as run:
        run.log_artifact(model_folder, name="best")
    [entry] = store.open(root).run(run.run_id).artifacts
    expected: dict[str, dict[str, Any]] = {
        rel: {"size": len(data), "sha256": sha256(data)}
        for rel, data in every_file(model_folder).items()
    }
    assert entry["kind"] == "folder"
    assert entry["name"] == "best"
    assert {f["path"]: {"size": f["size"], "sha256": f["sha256"]} for f in entry["files"]} == (
        expected
    )
    assert [f["path"] for f in entry["files"]] == sorted(expected)
    assert entry["size"] == sum(v["size"] for v in expected.values())
    assert every_file(run.path / "artifacts" / "best") == every_file(model_folder)
    # One digest for the whole folder: changes with any file's path or content.
    assert len(entry["sha256"]) == 64 and entry["sha256"] not in {
        v["sha256"] for v in expected.values()
    }


def test_folder_digest_follows_content(new_run: Any, root: Path, model_folder: Path) -> None:
    with new_run() as run:
        first = run.log_artifact(model_folder, name="a")
        same = run.log_artifact(model_folder, name="b")
        (model_folder / "config.json").write_text('{"layers": 4}')
        changed = run.log_artifact(model_folder, name="c")
    assert first["sha256"] == same["sha256"]
    assert changed["sha256"] != first["sha256"]
    assert [a["name"] for a in store.open(root).run(run.run_id).artifacts] == ["a", "b", "c"]


def test_a_failed_copy_keeps_the_logged_file_and_leaves_no_staging_file(
    new_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "model.pt"
    source.write_bytes(b"first")
    with new_run() as run:
        run.log_artifact(source)
        source.write_bytes(b"second, longer")

        def disk_full(src: Any, dst: Any) -> None:
            Path(dst).write_bytes(b"sec")  # part of the file made it before the disk filled
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(shutil, "copyfile", disk_full)
        with pytest.raises(OSError, match="No space left"):
            run.log_artifact(source)
    assert every_file(run.path / "artifacts") == {"model.pt": b"first"}


def test_relogging_a_name_replaces_the_artifact(
    new_run: Any, root: Path, model_folder: Path, tmp_path: Path
) -> None:
    with new_run() as run:
        run.log_artifact(model_folder, name="model")
        (model_folder / "weights" / "w0.bin").unlink()
        run.log_artifact(model_folder, name="model")
    [entry] = store.open(root).run(run.run_id).artifacts
    assert sorted(f["path"] for f in entry["files"]) == ["config.json", "weights/empty.bin"]
    assert sorted(every_file(run.path / "artifacts" / "model")) == [
        "config.json",
        "weights/empty.bin",
    ]


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".", "/tmp/abs", "..\\x", "", "x\x00y"])
def test_path_traversal_in_name_is_refused(
    new_run: Any, root: Path, tmp_path: Path, model_folder: Path, name: str
) -> None:
    source = tmp_path / "src" / "file.txt"
    source.write_text("payload")
    with new_run() as run:
        before = every_file(tmp_path)
        for what in (source, model_folder):
            with pytest.raises(ValueError, match="artifact name"):
                run.log_artifact(what, name=name)
        assert every_file(tmp_path) == before  # nothing written anywhere, inside or out
    assert not (run.path / "artifacts").exists()
    assert store.open(root).run(run.run_id).artifacts == []


def test_a_folder_holding_the_run_itself_is_refused(
    new_run: Any, root: Path, tmp_path: Path
) -> None:
    """Logging the project folder while the store lives in it (./mmruns) would copy the copy
    into itself until paths get too long: refused up front, leaving nothing behind."""
    (tmp_path / "train.py").write_text("x = 1\n")
    with new_run() as run:
        before = every_file(tmp_path)
        for source in (tmp_path, root, run.path, run.path / "artifacts"):
            source.mkdir(exist_ok=True)
            with pytest.raises(ValueError, match="holds this run's artifacts folder"):
                run.log_artifact(source, name="project")
        assert every_file(tmp_path) == before
    assert [p.name for p in (run.path / "artifacts").iterdir()] == []
    assert store.open(root).run(run.run_id).artifacts == []


def test_missing_source_is_a_clear_error(new_run: Any, tmp_path: Path) -> None:
    with new_run() as run:
        with pytest.raises(FileNotFoundError, match="artifact source does not exist"):
            run.log_artifact(tmp_path / "nope.pt")


def test_hidden_file_needs_an_explicit_name(new_run: Any, root: Path, tmp_path: Path) -> None:
    secret = tmp_path / ".best.pt"
    secret.write_bytes(b"weights")
    with new_run() as run:
        with pytest.raises(ValueError, match="pass name=... to store it"):
            run.log_artifact(secret)
        entry = run.log_artifact(secret, name="best.pt")
    assert entry["size"] == 7
    assert (run.path / "artifacts" / "best.pt").read_bytes() == b"weights"


# ----------------------------------------------------------------------------- datasets
def test_same_file_same_fingerprint_changed_byte_different(
    new_run: Any, root: Path, tmp_path: Path
) -> None:
    data = bytearray(os.urandom(100_000))
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes(data)
    second.write_bytes(data)  # same bytes under another name
    original = bytes(data)
    with new_run(name="one") as one:
        one.log_dataset(first, "train")
    with new_run(name="two") as two:
        two.log_dataset(second, "train")
    data[54_321] ^= 1
    first.write_bytes(data)
    with new_run(name="three") as three:
        three.log_dataset(first, "train")
    s = store.open(root)
    prints = [s.run(r.run_id).inputs[0]["fingerprint"] for r in (one, two, three)]
    assert prints[0] == prints[1] != prints[2]
    assert prints[0] == "sha256:" + hashlib.sha256(original).hexdigest()  # as sha256sum prints
    [entry] = s.run(one.run_id).inputs
    assert (entry["name"], entry["kind"], entry["size"]) == ("train", "file", 100_000)
    assert entry["uri"] == str(first.resolve())


def test_parquet_file_records_rows_and_schema(new_run: Any, root: Path, tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    pq.write_table(pa.table({"x": pa.array([1.0, 2.0, 3.0]), "label": ["a", "b", "a"]}), path)
    with new_run() as run:
        run.log_dataset(path, "train")
    [entry] = store.open(root).run(run.run_id).inputs
    assert entry["rows"] == 3
    assert entry["schema"] == {"x": "double", "label": "string"}


def test_folder_fingerprint(new_run: Any, root: Path, model_folder: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    twin.mkdir()
    for rel, data in every_file(model_folder).items():
        (twin / rel).parent.mkdir(parents=True, exist_ok=True)
        (twin / rel).write_bytes(data)
    with new_run() as run:
        a = run.log_dataset(model_folder, "a")
        b = run.log_dataset(twin, "b")
        (twin / "weights" / "empty.bin").rename(twin / "weights" / "renamed.bin")
        renamed = run.log_dataset(twin, "renamed")
        (twin / "config.json").write_text('{"layers": 4}')
        changed = run.log_dataset(twin, "changed")
    assert a["fingerprint"] == b["fingerprint"]
    assert len({a["fingerprint"], renamed["fingerprint"], changed["fingerprint"]}) == 3
    size = sum(len(data) for data in every_file(model_folder).values())
    assert (a["kind"], a["files"], a["size"]) == ("folder", 3, size)
    assert [e["name"] for e in store.open(root).run(run.run_id).inputs] == [
        "a",
        "b",
        "renamed",
        "changed",
    ]


def test_frame_fingerprint_follows_data_not_layout(new_run: Any, root: Path) -> None:
    frame = pl.DataFrame({"x": [1.5, 2.5, 3.5, 4.5], "label": ["a", "b", "a", "b"]})
    rebuilt = pl.concat([frame.head(2), frame.tail(2)], rechunk=False)  # two chunks, same data
    assert rebuilt.n_chunks() == 2
    with new_run() as run:
        a = run.log_dataset(frame, "a")
        b = run.log_dataset(rebuilt, "b")
        c = run.log_dataset(frame.with_columns(pl.col("x").cast(pl.Float64) + 0.0), "c")
        changed = run.log_dataset(frame.with_columns(x=pl.Series([1.5, 2.5, 3.5, 4.25])), "d")
        renamed = run.log_dataset(frame.rename({"label": "y"}), "e")
    assert a["fingerprint"] == b["fingerprint"] == c["fingerprint"]
    assert len({a["fingerprint"], changed["fingerprint"], renamed["fingerprint"]}) == 3
    [stored, *_] = store.open(root).run(run.run_id).inputs
    assert stored["kind"] == "frame"
    assert stored["rows"] == 4
    assert list(stored["schema"]) == ["x", "label"]
    assert stored["schema"]["x"] == "double"


def test_uri_and_extra_fields_are_kept(new_run: Any, root: Path) -> None:
    frame = pl.DataFrame({"x": [1, 2]})
    with new_run() as run:
        run.log_dataset(frame, "train", uri="s3://bucket/train.parquet", split="train", version=3)
    [entry] = store.open(root).run(run.run_id).inputs
    assert (entry["uri"], entry["split"], entry["version"]) == (
        "s3://bucket/train.parquet",
        "train",
        3,
    )


def test_dataset_uri_credentials_are_not_stored(new_run: Any, root: Path) -> None:
    frame = pl.DataFrame({"x": [1, 2]})
    with new_run() as run:
        run.log_dataset(frame, "train", uri="https://alice:hunter2token@data.example/train.csv")
    [entry] = store.open(root).run(run.run_id).inputs
    assert entry["uri"] == "https://data.example/train.csv"
    assert b"hunter2token" not in (run.path / "inputs.json").read_bytes()


def test_runs_frame_shows_dataset_fingerprints(new_run: Any, root: Path, tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("x,y\n1,2\n")
    frame = pl.DataFrame({"x": [1, 2]})
    with new_run(name="a") as a:
        train = a.log_dataset(path, "train")["fingerprint"]
        test = a.log_dataset(frame, "test")["fingerprint"]
    with new_run(name="b") as b:
        b.log_dataset(path, "train")
    with new_run(name="c"):
        pass
    s = store.open(root)
    df = s.runs().sort("name")
    assert df.schema["datasets"] == pl.Struct({"test": pl.String, "train": pl.String})
    assert df["datasets"].to_list() == [
        {"test": test, "train": train},
        {"test": None, "train": train},
        {"test": None, "train": None},
    ]
    same = s.runs(where=f"datasets.train = '{train}'")
    assert sorted(same["name"].to_list()) == ["a", "b"]
    assert json.loads((b.path / "inputs.json").read_text())[0]["fingerprint"] == train


def test_dataset_names_are_checked(new_run: Any, tmp_path: Path) -> None:
    with new_run() as run:
        for bad in ("../x", "a/b", ".."):
            with pytest.raises(ValueError, match="dataset name"):
                run.log_dataset(pl.DataFrame({"x": [1]}), bad)
        with pytest.raises(FileNotFoundError, match="dataset source does not exist"):
            run.log_dataset(tmp_path / "missing.csv", "train")
    assert not (run.path / "inputs.json").exists()
