"""The dataset registry: versions by content, refs, diffs, lineage, concurrency and crashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

from mmtop import store
from mmtop.store.datasets import layout

RUN: dict[str, Any] = {"capture_system": False, "capture_code": False, "capture_env": False}


def _relabelled(frame: pd.DataFrame, ids: list[int]) -> pd.DataFrame:
    out = frame.copy()
    rows = out["id"].isin(ids)
    out.loc[rows, "target"] = (out.loc[rows, "target"] + 1) % 10
    return out


def _appended(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    extra = frame.tail(n).copy()
    extra["id"] = range(100_000, 100_000 + n)
    return pd.concat([frame, extra], ignore_index=True)


def test_same_content_reuses_the_version(tmp_path: Path, digits_frame: pd.DataFrame) -> None:
    root = tmp_path / "mmruns"
    a = store.log_dataset_version("digits-train", digits_frame, root)
    b = store.log_dataset_version("digits-train", pl.from_pandas(digits_frame), root)
    c = store.log_dataset_version("digits-train", _relabelled(digits_frame, [3]), root)
    assert (a.ref, b.ref, c.ref) == ("digits-train@1", "digits-train@1", "digits-train@2")
    df = store.open(root).datasets()
    assert df.select("name", "version", "kind", "rows", "columns").rows() == [
        ("digits-train", 1, "frame", 1797, 66),
        ("digits-train", 2, "frame", 1797, 66),
    ]
    m = json.loads((a.path / "manifest.json").read_text())
    assert (m["format"], m["schema_version"], m["fingerprint"]) == (
        "mmtop-dataset",
        1,
        a.fingerprint,
    )
    assert m["schema"][:2] == [
        {"name": "id", "type": "int64"},
        {"name": "pixel_0_0", "type": "double"},
    ]


def test_runs_register_and_record_the_version(tmp_path: Path, digits_frame: pd.DataFrame) -> None:
    root = tmp_path / "mmruns"
    with store.Run("digits", root=root, **RUN) as one:
        first = one.log_dataset(digits_frame, "digits-train", uri="s3://b/train.parquet")
    with store.Run("digits", root=root, **RUN) as two:
        second = two.log_dataset(pl.from_pandas(digits_frame), "train", dataset="digits-train")
    with store.Run("digits", root=root, **RUN) as three:
        third = three.log_dataset(digits_frame, "not a registry name")
        fourth = three.log_dataset(digits_frame, "digits-val", register=False)
    assert first["dataset"] == second["dataset"] == {"name": "digits-train", "version": 1}
    assert "dataset" not in third and "dataset" not in fourth
    s = store.open(root)
    assert s.datasets()["name"].to_list() == ["digits-train"]
    assert s.dataset("digits-train").uri == "s3://b/train.parquet"
    assert s.dataset("digits-train").manifest["run"] == {
        "run_id": one.run_id,
        "experiment": "digits",
    }
    [entry] = s.run_datasets(two.run_id)
    assert (entry["name"], entry["ref"]) == ("train", "digits-train@1")
    refs = [e["ref"] for e in s.run_datasets(three.run_id)]
    assert refs == ["digits-train@1", "digits-train@1"]  # matched by fingerprint


def test_refs_by_name_number_and_fingerprint(tmp_path: Path, digits_frame: pd.DataFrame) -> None:
    root = tmp_path / "mmruns"
    one = store.log_dataset_version("digits", digits_frame, root)
    two = store.log_dataset_version("digits", _appended(digits_frame, 3), root)
    s = store.open(root)
    assert s.dataset("digits") == two
    assert s.dataset("digits@1") == s.dataset("digits/1") == one
    assert s.dataset(one.fingerprint) == one
    assert s.dataset(one.fingerprint.removeprefix("sha256:")[:12]) == one
    with pytest.raises(store.DatasetNotFoundError, match="no version 3"):
        s.dataset("digits@3")
    with pytest.raises(store.DatasetNotFoundError, match="no dataset named 'other'"):
        s.dataset("other")
    with pytest.raises(ValueError, match="version must be a number"):
        s.dataset("digits@latest")
    with pytest.raises(ValueError, match="bad dataset reference"):
        s.dataset("two words")


def test_ambiguous_fingerprint_prefix_lists_the_candidates(tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    frame = pl.DataFrame({"x": [1, 2, 3]})
    one = store.log_dataset_version("one", frame, root)
    store.log_dataset_version("two", frame, root)  # same content, another dataset
    with pytest.raises(store.AmbiguousDatasetError) as err:
        store.open(root).dataset(one.fingerprint[:20])
    assert err.value.candidates == ["one@1", "two@1"]


def test_diff_of_relabelled_appended_and_retyped_copies(
    tmp_path: Path, digits_frame: pd.DataFrame
) -> None:
    root = tmp_path / "mmruns"
    base = store.log_dataset_version("d", digits_frame, root, key="id", snapshot=True)
    relabelled = store.log_dataset_version(
        "d", _relabelled(digits_frame, [5, 17, 900]), root, key="id", snapshot=True, parent="d@1"
    )
    appended = store.log_dataset_version(
        "d", _appended(digits_frame, 4), root, key="id", snapshot=True
    )
    retyped = digits_frame.astype({"target": "float64"}).drop(columns=["pixel_0_0"])
    changed = store.log_dataset_version("d", retyped, root, key="id", snapshot=True)
    s = store.open(root)

    d = s.dataset_diff(base.ref, relabelled.ref)
    assert (d["same"], d["rows"], d["schema"]) == (
        False,
        {"a": 1797, "b": 1797, "delta": 0},
        {"added": [], "removed": [], "changed": []},
    )
    keyed = d["keyed"]
    assert (keyed["added"], keyed["removed"], keyed["changed"], keyed["unchanged"]) == (
        0,
        0,
        3,
        1794,
    )
    assert keyed["changed_columns"] == {"target": 3}
    assert sorted(keyed["examples"]["changed"]) == [5, 17, 900]

    d = s.dataset_diff(base.ref, appended.ref)
    assert d["rows"] == {"a": 1797, "b": 1801, "delta": 4}
    assert (d["keyed"]["added"], d["keyed"]["removed"], d["keyed"]["changed"]) == (4, 0, 0)
    assert d["keyed"]["examples"]["added"] == [100_000, 100_001, 100_002, 100_003]

    d = s.dataset_diff(base.ref, changed.ref)
    assert d["schema"] == {
        "added": [],
        "removed": [{"name": "pixel_0_0", "type": "double"}],
        "changed": [{"name": "target", "from": "int64", "to": "double"}],
    }
    assert d["keyed"]["changed"] == 0  # 3 and 3.0 are the same number

    assert s.dataset_diff(base.ref, base.ref)["same"] is True


def test_diff_without_data_says_why(tmp_path: Path, digits_frame: pd.DataFrame) -> None:
    root = tmp_path / "mmruns"
    store.log_dataset_version("d", digits_frame, root, key="id")
    store.log_dataset_version("d", _appended(digits_frame, 1), root, key="id")
    store.log_dataset_version("d", _appended(digits_frame, 2), root)
    d = store.open(root).dataset_diff("d@1", "d@2")
    assert d["keyed"] is None
    assert d["notes"] == [
        "rows not compared: d@1: no snapshot, and its uri None is not a readable path here"
    ]
    d = store.open(root).dataset_diff("d@1", "d@3")
    assert d["notes"] == ["no key column: rows added/removed/changed not compared (--key)"]


def test_diff_reads_files_at_their_uri_and_notices_a_change(tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    path = tmp_path / "train.parquet"
    pl.DataFrame({"id": [1, 2, 3], "y": [0, 1, 0]}).write_parquet(path)
    store.log_dataset_version("t", path, root, key="id")
    moved = tmp_path / "train2.parquet"
    pl.DataFrame({"id": [1, 2, 4], "y": [0, 0, 0]}).write_parquet(moved)
    store.log_dataset_version("t", moved, root, key="id")
    d = store.open(root).dataset_diff("t@1", "t@2")
    assert (d["keyed"]["added"], d["keyed"]["removed"], d["keyed"]["changed"]) == (1, 1, 1)
    pl.DataFrame({"id": [9], "y": [9]}).write_parquet(path)  # the data moved on
    d = store.open(root).dataset_diff("t@1", "t@2")
    assert d["keyed"] is None
    assert "has changed since" in d["notes"][0]


def test_labels_and_lineage_round_trip(tmp_path: Path, digits_frame: pd.DataFrame) -> None:
    root = tmp_path / "mmruns"
    labels = store.log_dataset_version("digits-labels", digits_frame[["id", "target"]], root)
    relabels = store.log_dataset_version(
        "digits-labels", _relabelled(digits_frame, [1])[["id", "target"]], root, parent=labels.ref
    )
    with store.Run("digits", root=root, **RUN) as run:
        entry = run.log_dataset(digits_frame, "digits-train", labels="digits-labels@1")
        run.log({"val/acc": 0.9})
        model = run.log_model(tmp_path / "mmruns" / "mmtop-store.json", "clf")
    with store.Run("digits", root=root, **RUN) as rerun:
        rerun.log_dataset(_relabelled(digits_frame, [1]), "digits-train", labels=relabels.ref)
    s = store.open(root)
    train = s.dataset(f"digits-train@{entry['dataset']['version']}")
    assert train.related("labels") == "digits-labels@1"
    assert s.dataset("digits-train@2").related("labels") == "digits-labels@2"

    lin = s.dataset_lineage(train.ref)
    assert [(r["run_id"], r["as"]) for r in lin["runs"]] == [(run.run_id, "digits-train")]
    assert [(m["ref"], m["run_id"]) for m in lin["models"]] == [(model.ref, run.run_id)]
    assert lin["labels"] == "digits-labels@1" and lin["registered_by"]["run_id"] == run.run_id

    up = s.dataset_lineage("digits-labels@1")
    assert up["derived"] == [
        {"ref": "digits-labels@2", "as": "parent"},
        {"ref": "digits-train@1", "as": "labels"},
    ]
    [back] = s.inputs_of(s.model(model.ref).lineage()["datasets"])
    assert back["ref"] == train.ref  # model -> run -> dataset version


REGISTER_SAME = """
import os
import sys
import polars as pl
from mmtop import store
store.log_dataset_version("warm-" + sys.argv[2], pl.DataFrame({"x": [1]}), sys.argv[1])
frame = pl.DataFrame({"x": range(200_000), "y": ["a", "b", "c", "d"] * 50_000})
print("ready", flush=True)
os.read(int(sys.argv[3]), 1)  # returns once the parent closes the pipe: all start at once
print(store.log_dataset_version("shared", frame, sys.argv[1]).version, flush=True)
"""


def test_concurrent_registrations_of_the_same_content_end_with_one_version(tmp_path: Path) -> None:
    """Four processes, every import done, released together; 200k rows keep them inside the
    fingerprint-and-profile window at once (without the lock they commit 1, 2, 3, 4)."""
    root = tmp_path / "mmruns"
    gate, release = os.pipe()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", REGISTER_SAME, str(root), str(i), str(gate)],
            stdout=subprocess.PIPE,
            text=True,
            pass_fds=(gate,),
        )
        for i in range(4)
    ]
    os.close(gate)
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline() == "ready\n"
        os.close(release)
        versions = [p.communicate(timeout=120)[0].strip() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert versions == ["1"] * 4
    assert sorted(os.listdir(root / "_datasets" / "shared" / "versions")) == ["1"]


def test_interrupted_registration_is_invisible_and_reported(
    tmp_path: Path, digits_frame: pd.DataFrame
) -> None:
    root = tmp_path / "mmruns"
    store.log_dataset_version("d", digits_frame, root)
    dead = layout.versions_dir(root, "d") / "2"
    dead.mkdir()
    claim = {"pid": 2**22 + 12345, "host": os.uname().nodename, "user": "x", "claimed": "now"}
    (dead / ".claim.json").write_text(json.dumps(claim))
    broken = layout.versions_dir(root, "broken") / "1"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{not json")
    s = store.open(root)
    assert s.datasets()["version"].to_list() == [1]
    reasons = sorted(p.reason.split(":")[0] for p in s.problems())
    assert reasons == ["registration interrupted", "unreadable manifest"]
    again = store.log_dataset_version("d", _appended(digits_frame, 1), root)
    assert again.version == 3  # number 2 stays with the dead claim until compaction
    report = store.compact(root)
    assert report.dataset_versions_removed == [str(dead)]
    assert sorted(os.listdir(layout.versions_dir(root, "d"))) == ["1", "3"]


def test_old_inputs_json_fingerprints_stay_readable(tmp_path: Path) -> None:
    """Runs logged before the registry (blake2b fingerprints, no version) read as before."""
    import shutil

    sample = Path(__file__).resolve().parents[2] / "sample_runs"
    root = tmp_path / "store"
    shutil.copytree(sample, root)
    s = store.open(root)
    run_id = s.runs().filter(pl.col("experiment") == "digits")["run_id"][0]
    [train, *_] = s.run_datasets(run_id)
    assert train["fingerprint"].startswith("blake2b:") and train["ref"] is None
    assert s.datasets().height == 0


def test_diff_reports_distribution_shift_from_profiles(
    tmp_path: Path, digits_frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "mmruns"
    base = store.log_dataset_version("d", digits_frame, root)
    shifted = digits_frame.assign(pixel_3_3=digits_frame["pixel_3_3"] * 0.5)
    moved = store.log_dataset_version("d", shifted, root)
    profile = base.profile()
    assert profile is not None and profile["rows"] == 1797
    assert profile["columns"]["target"]["kind"] == "numeric"
    assert base.manifest["profile"] == "profile.json"
    d = store.open(root).dataset_diff(base.ref, moved.ref)
    assert [r["column"] for r in d["shift"] if r["drift"]] == ["pixel_3_3"]
    assert len(d["shift"]) == 66 and d["notes"] == [
        "no key column: rows added/removed/changed not compared (--key)"
    ]

    from mmtop.store.datasets import sources

    monkeypatch.setattr(sources, "PROFILE_MAX_BYTES", 100)  # files above it are not read
    path = tmp_path / "big.csv"
    path.write_text("x\n" + "1\n" * 100)
    big = store.log_dataset_version("big", path, root)
    assert big.manifest["profile"] is None and big.profile() is None
    small = tmp_path / "small.csv"
    small.write_text("x\n1\n")
    store.log_dataset_version("big", small, root)
    d = store.open(root).dataset_diff("big@1", "big@2")
    assert d["shift"] is None
    assert d["notes"][0] == "no profile of big@1: distribution shift not computed"
