"""The run index under <root>/_index/: kept by writers, read by cold opens, never the truth."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import mmtop.store.reader  # noqa: F401  (binds store.reader for monkeypatching)
from mmtop import store
from mmtop.store import index, records, run_index

HOUR = 3600


def _backdate(root: Path, seconds: float = HOUR) -> None:
    """Age every file, as if the runs ended long ago (recent files are never trusted)."""
    when = time.time() - seconds
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.utime(os.path.join(dirpath, name), (when, when))


def _populate(root: Path, n: int = 6) -> list[str]:
    ids = []
    for i in range(n):
        with store.Run(
            experiment=f"exp{i % 2}",
            name=f"run{i}",
            root=root,
            params={"lr": 10.0**-i, "model": {"depth": i}},
            tags=[f"t{i}"],
            capture_env=False,
            capture_code=False,
            capture_system=False,
        ) as run:
            run.log({"loss": 1.0 / (i + 1)})
        ids.append(run.run_id)
    return ids


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run folders whose files the reader parses."""
    seen: list[str] = []
    real = records.read_record

    def counting(run: str | Path, problems: list[store.Problem]) -> dict[str, Any] | None:
        seen.append(os.path.basename(str(run)))
        out: dict[str, Any] | None = real(run, problems)
        return out

    monkeypatch.setattr(store.reader, "read_record", counting)
    return seen


def _indexed(root: Path) -> None:
    _backdate(root)
    assert store.compact(root).index_runs == len(store.open(root, cache=False).runs())


def _truth(root: Path) -> pl.DataFrame:
    """The runs frame read from the files alone."""
    index = root / "_index"
    index.rename(root / "_index.off")
    try:
        return store.open(root, cache=False).runs()
    finally:
        (root / "_index.off").rename(index)


def _same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    cols = [c for c in a.columns if not c.startswith("_")]
    assert a.select(cols).equals(b.select(cols)), (a, b)


def test_writers_note_start_and_finish_and_fold_the_log(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_index, "COMPACT_AT", 4)
    ids = _populate(root, 3)
    snaps = run_index.snapshots(root)
    # Two entries per run: the second run's finish made four and folded them.
    assert [s.rows for s in snaps] == [2]
    left = run_index.entries(root, snaps[0].upto)
    assert len(left) == 2
    docs = [json.loads((root / "_index" / "log" / name).read_text()) for name, _ in left]
    assert [(d["run_id"], d["event"]) for d in docs] == [(ids[2], "start"), (ids[2], "finish")]
    assert docs[0]["experiment"] == "exp0"


def test_cold_open_from_the_index_reads_no_run_files(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(root)
    _indexed(root)
    truth = _truth(root)
    reads = _reads(monkeypatch)
    cold = store.open(root).runs()  # no .mmtop/ cache was ever written by a reader
    assert reads == []
    _same(cold, truth)
    assert (root / ".mmtop").exists()  # and the reader's own cache is written from it


def test_index_is_found_whatever_the_root_is_called(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(root, 2)
    _indexed(root)
    reads = _reads(monkeypatch)
    monkeypatch.chdir(root.parent)
    frame = store.open(Path(root.name), cache=False).runs()
    assert reads == []
    assert frame["path"].to_list() == sorted(frame["path"].to_list(), key=os.path.basename)
    assert all(p.startswith(f"{root.name}/exp") for p in frame["path"].to_list())


def test_a_stale_index_costs_reads_never_truth(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _populate(root)
    _indexed(root)
    # Edited by hand, in place (no rename, no log entry), a run deleted, a run added.
    meta_file = next(root.glob(f"*/{ids[0]}/run.json"))
    meta = json.loads(meta_file.read_text())
    meta["tags"] = ["edited"]
    with open(meta_file, "r+") as f:
        f.truncate(0)
        f.write(json.dumps(meta))
    shutil.rmtree(next(root.glob(f"*/{ids[1]}")))
    new = next(root.glob(f"*/{ids[2]}"))
    copy = new.parent / "20270101T000000Z-aaaaaaaaaaaa"
    shutil.copytree(new, copy)
    meta = json.loads((copy / "run.json").read_text())
    meta["run_id"] = copy.name
    (copy / "run.json").write_text(json.dumps(meta))
    reads = _reads(monkeypatch)
    frame = store.open(root, cache=False).runs()
    assert sorted(reads) == sorted([ids[0], copy.name])
    _same(frame, _truth(root))
    by_id = dict(zip(frame["run_id"].to_list(), frame["tags"].to_list(), strict=True))
    assert by_id[ids[0]] == ["edited"]
    assert ids[1] not in by_id and copy.name in by_id
    assert frame.height == 6


def test_runs_named_by_newer_log_entries_are_read_again(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _populate(root, 3)
    _indexed(root)
    run_index.note(root, ids[1], "exp1", "tags")
    run_index.note(root, "../../etc", "exp1", "tags")  # junk entries name no folder
    (root / "_index" / "log" / f"{time.time_ns():020d}-0badf00d.json").write_text("{nope")
    reads = _reads(monkeypatch)
    store.open(root, cache=False).runs()
    assert reads == [ids[1]]


@pytest.mark.parametrize("damage", [b"", b"PAR1 not parquet", b"\x00" * 100])
def test_a_damaged_snapshot_is_read_past(
    root: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes
) -> None:
    _populate(root, 3)
    _indexed(root)
    snap = run_index.snapshots(root)[0].path
    snap.write_bytes(damage)
    reads = _reads(monkeypatch)
    frame = store.open(root, cache=False).runs()
    assert len(reads) == 3 and frame.height == 3


def test_compact_rebuilds_a_deleted_index(root: Path) -> None:
    _populate(root, 3)
    _backdate(root)
    assert run_index.snapshots(root) == []
    report = store.compact(root)
    assert report.index_runs == 3
    (snap,) = run_index.snapshots(root)
    assert snap.rows == 3
    assert run_index.entries(root) == []  # folded into the snapshot


def test_noting_runs_does_not_import_polars_into_the_training_process(root: Path) -> None:
    code = (
        "import sys\nfrom mmtop import store\n"
        f"with store.Run(root={str(root)!r}, capture_env=False, capture_code=False,"
        " capture_system=False) as r:\n    r.log({'x': 1.0})\n"
        "assert 'polars' not in sys.modules, 'polars imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert len(run_index.entries(root)) == 2


def _vouching(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust folder times at once: ctimes cannot be set back, and the 2 s a just-made folder
    must age before its time is trusted is what this file's other tests rely on."""
    monkeypatch.setattr(index, "RACY_NS", 0)


def _listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Experiment folders whose run folders the reader lists."""
    seen: list[str] = []
    real = store.reader._subdirs

    def counting(folder: str, problems: list[store.Problem]) -> list[str]:
        seen.append(os.path.basename(folder))
        return real(folder, problems)

    monkeypatch.setattr(store.reader, "_subdirs", counting)
    return seen


def _full_signatures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run folders whose three file times the reader takes."""
    seen: list[str] = []
    real = records.signature

    def counting(run: str) -> index.Signature | None:
        seen.append(os.path.basename(run))
        return real(run)

    monkeypatch.setattr(records, "signature", counting)
    return seen


def test_a_fresh_index_is_read_without_listing_or_reading_runs(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vouching(monkeypatch)
    _populate(root)
    _indexed(root)
    truth = _truth(root)
    listed, full, reads = _listed(monkeypatch), _full_signatures(monkeypatch), _reads(monkeypatch)
    frame = store.open(root, cache=False).runs()
    assert (listed, full, reads) == ([], [], [])
    _same(frame, truth)


def test_runs_changed_added_or_removed_behind_a_fresh_index_are_seen(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vouching(monkeypatch)
    ids = _populate(root)  # exp0: ids 0, 2, 4; exp1: ids 1, 3, 5
    _indexed(root)
    # exp0 keeps its run folders: run.json edited in place, params.json replaced by hand.
    meta_file = root / "exp0" / ids[0] / "run.json"
    meta = json.loads(meta_file.read_text())
    meta["name"] = "renamed"
    with open(meta_file, "r+") as f:
        f.truncate(0)
        f.write(json.dumps(meta))
    params = root / "exp0" / ids[2] / "params.json"
    (params.parent / "params.tmp").write_text(json.dumps({"lr": 5.0}))
    os.replace(params.parent / "params.tmp", params)
    # exp1 loses a run and gains one.
    shutil.rmtree(root / "exp1" / ids[1])
    copy = root / "exp1" / "20270101T000000Z-aaaaaaaaaaaa"
    shutil.copytree(root / "exp1" / ids[3], copy)
    meta = json.loads((copy / "run.json").read_text())
    meta["run_id"] = copy.name
    (copy / "run.json").write_text(json.dumps(meta))
    listed, reads = _listed(monkeypatch), _reads(monkeypatch)
    frame = store.open(root, cache=False).runs()
    assert listed == ["exp1"]
    assert sorted(reads) == sorted([ids[0], ids[2], copy.name])
    _same(frame, _truth(root))
    names = dict(zip(frame["run_id"].to_list(), frame["name"].to_list(), strict=True))
    assert names[ids[0]] == "renamed" and ids[1] not in names and copy.name in names


def test_a_running_run_is_checked_in_full_behind_a_fresh_index(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vouching(monkeypatch)
    ids = _populate(root, 2)
    meta_file = root / "exp1" / ids[1] / "run.json"
    meta = json.loads(meta_file.read_text())
    meta["status"] = "running"  # as a run whose writer is still at work
    meta_file.write_text(json.dumps(meta))
    _indexed(root)
    summary = next((root / "exp1" / ids[1] / "summary").iterdir())
    doc = json.loads(summary.read_text())
    doc["metrics"]["loss"]["last"] = 0.125
    (summary.parent / "tmp").write_text(json.dumps(doc))
    os.replace(summary.parent / "tmp", summary)  # the writer's next summary, by rename
    full, reads = _full_signatures(monkeypatch), _reads(monkeypatch)
    frame = store.open(root, cache=False).runs()
    assert (full, reads) == ([ids[1]], [ids[1]])
    assert frame.filter(pl.col("run_id") == ids[1])["metrics"].struct.field("loss").item() == 0.125


def test_a_run_folder_listed_without_a_row_is_read_again_once_whole(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vouching(monkeypatch)
    ids = _populate(root, 2)
    half = root / "exp0" / "20270101T000000Z-bbbbbbbbbbbb"
    half.mkdir()  # a run being created (or copied in): no run.json yet
    _indexed(root)
    assert store.open(root, cache=False).runs().height == 2
    meta = json.loads((root / "exp0" / ids[0] / "run.json").read_text())
    meta["run_id"] = half.name
    shutil.copy(root / "exp0" / ids[0] / "params.json", half / "params.json")
    (half / "run.json").write_text(json.dumps(meta))  # inside the run folder only
    listed, reads = _listed(monkeypatch), _reads(monkeypatch)
    frame = store.open(root, cache=False).runs()
    assert (listed, reads) == ([], [half.name])
    assert half.name in frame["run_id"].to_list()


def test_snapshots_in_another_layout_are_ignored_and_removed_by_compact(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(root, 3)
    _indexed(root)
    (snap,) = run_index.snapshots(root)
    assert snap.path.name.startswith("runs-v2-")
    older = snap.path.with_name(f"runs-{snap.upto + 1:020d}-3.parquet")  # the first layout
    shutil.copy(snap.path, older)
    snap.path.unlink()
    assert run_index.snapshots(root) == []
    reads = _reads(monkeypatch)
    store.open(root, cache=False).runs()
    assert len(reads) == 3
    store.compact(root)
    assert [p.name for p in (root / "_index").glob("*.parquet")] == [
        s.path.name for s in run_index.snapshots(root)
    ]
    assert not older.exists()


def test_folding_checks_every_run_in_full_whatever_the_index_vouches_for(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vouching(monkeypatch)
    ids = _populate(root, 2)
    _indexed(root)
    summary = next((root / "exp0" / ids[0] / "summary").iterdir())
    doc = json.loads(summary.read_text())
    doc["metrics"]["loss"]["last"] = 0.25
    (summary.parent / "tmp").write_text(json.dumps(doc))
    os.replace(summary.parent / "tmp", summary)  # by hand: run.json untouched, nothing noted

    def loss() -> float:
        frame = store.open(root, cache=False).runs().filter(pl.col("run_id") == ids[0])
        return float(frame["metrics"].struct.field("loss").item())

    assert loss() == 1.0  # the documented exception: the ended run is vouched for
    assert store.compact(root).index_runs == 2
    assert loss() == 0.25


def _rebuilds(monkeypatch: pytest.MonkeyPatch, during: Any = None) -> list[Path]:
    """Folds the writers start; `during` runs in the middle of each (a second writer)."""
    calls: list[Path] = []
    real = run_index.rebuild

    def counting(root: Path) -> Path | None:
        calls.append(root)
        if during is not None:
            during(root)
        out: Path | None = real(root)
        return out

    monkeypatch.setattr(run_index, "rebuild", counting)
    return calls


def test_a_writer_finishing_while_another_folds_leaves_the_fold_to_it(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(root, 2)
    monkeypatch.setattr(run_index, "COMPACT_AT", 1)
    calls = _rebuilds(monkeypatch, during=run_index.fold_if_due)
    run_index.fold_if_due(root)
    assert len(calls) == 1
    assert [s.rows for s in run_index.snapshots(root)] == [2]
    assert not (root / "_index" / run_index.CLAIM).exists()  # released
    assert sorted(p.name for p in (root / "_index").iterdir()) == [
        "log",
        run_index.snapshots(root)[0].path.name,
    ]


def test_a_claim_left_by_a_writer_that_died_is_taken_over(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(root, 2)
    monkeypatch.setattr(run_index, "COMPACT_AT", 1)
    calls = _rebuilds(monkeypatch)
    left = root / "_index" / run_index.CLAIM
    left.write_text(json.dumps({"pid": 1, "token": "0123456789abcdef"}))
    run_index.fold_if_due(root)  # a fresh claim: another writer is at it
    assert calls == [] and left.exists()
    old = time.time() - run_index.CLAIM_STALE_AFTER - 60
    os.utime(left, (old, old))
    run_index.fold_if_due(root)
    assert calls == [root] and not left.exists()
    assert [s.rows for s in run_index.snapshots(root)] == [2]


def _cached(root: Path) -> pl.DataFrame:
    """Open once, as a reader would: the `.mmtop/` cache is written, with its folders' times."""
    _backdate(root)
    frame = store.open(root).runs()
    assert (root / ".mmtop" / "runs-frame-v2.parquet").exists()
    return frame


def test_a_fresh_cache_is_read_without_listing_unchanged_experiment_folders(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vouching(monkeypatch)
    _populate(root)
    first = _cached(root)
    shutil.rmtree(root / "_index")  # the cache alone vouches for the folders
    listed, full, reads = _listed(monkeypatch), _full_signatures(monkeypatch), _reads(monkeypatch)
    frame = store.open(root).runs()
    assert (listed, full, reads) == ([], [], [])
    _same(frame, first)


def test_runs_changed_added_or_removed_behind_a_fresh_cache_are_seen(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vouching(monkeypatch)
    ids = _populate(root)  # exp0: ids 0, 2, 4; exp1: ids 1, 3, 5
    _cached(root)
    meta_file = root / "exp0" / ids[0] / "run.json"
    meta = json.loads(meta_file.read_text())
    meta["name"] = "renamed"
    with open(meta_file, "r+") as f:  # edited in place: the folder keeps its times
        f.truncate(0)
        f.write(json.dumps(meta))
    params = root / "exp0" / ids[2] / "params.json"
    (params.parent / "params.tmp").write_text(json.dumps({"lr": 5.0}))
    os.replace(params.parent / "params.tmp", params)
    shutil.rmtree(root / "exp1" / ids[1])
    copy = root / "exp1" / "20270101T000000Z-aaaaaaaaaaaa"
    shutil.copytree(root / "exp1" / ids[3], copy)
    meta = json.loads((copy / "run.json").read_text())
    meta["run_id"] = copy.name
    (copy / "run.json").write_text(json.dumps(meta))
    listed, reads = _listed(monkeypatch), _reads(monkeypatch)
    frame = store.open(root).runs()
    assert listed == ["exp1"]
    assert sorted(reads) == sorted([ids[0], ids[2], copy.name])
    _same(frame, _truth(root))
    names = dict(zip(frame["run_id"].to_list(), frame["name"].to_list(), strict=True))
    assert names[ids[0]] == "renamed" and ids[1] not in names and copy.name in names
    listed, reads = _listed(monkeypatch), _reads(monkeypatch)
    _same(store.open(root).runs(), frame)  # the cache was written anew, with exp1's time
    assert (listed, reads) == ([], [])


def test_a_running_run_is_checked_in_full_behind_a_fresh_cache(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vouching(monkeypatch)
    ids = _populate(root, 2)
    meta_file = root / "exp1" / ids[1] / "run.json"
    meta = json.loads(meta_file.read_text())
    meta["status"] = "running"  # as a run whose writer is still at work
    meta_file.write_text(json.dumps(meta))
    _cached(root)
    summary = next((root / "exp1" / ids[1] / "summary").iterdir())
    doc = json.loads(summary.read_text())
    doc["metrics"]["loss"]["last"] = 0.125
    (summary.parent / "tmp").write_text(json.dumps(doc))
    os.replace(summary.parent / "tmp", summary)  # the writer's next summary, by rename
    full, reads = _full_signatures(monkeypatch), _reads(monkeypatch)
    frame = store.open(root).runs()
    assert (full, reads) == ([ids[1]], [ids[1]])
    assert frame.filter(pl.col("run_id") == ids[1])["metrics"].struct.field("loss").item() == 0.125


def test_a_cache_behind_a_newer_snapshot_vouches_for_nothing(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Folding deleted the log entries between the cache and the snapshot: runs they named
    # may have changed where two stats cannot see it.
    _vouching(monkeypatch)
    _populate(root)
    _cached(root)
    _populate(root, 1)  # a run in exp0: exp1's folder keeps its time
    assert run_index.rebuild(root) is not None  # a writer's fold: the cache is not touched
    listed = _listed(monkeypatch)
    assert store.open(root).runs().height == 7
    assert sorted(listed) == ["exp0", "exp1"]
    listed.clear()
    assert store.open(root).runs().height == 7
    assert listed == []


def test_a_cache_moved_with_its_store_vouches_for_nothing(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _vouching(monkeypatch)
    _populate(root)
    _cached(root)
    moved = root.parent / "moved"
    root.rename(moved)
    listed = _listed(monkeypatch)
    frame = store.open(moved).runs()
    assert frame.height == 6 and sorted(listed) == ["exp0", "exp1"]
    assert all(p.startswith(str(moved)) for p in frame["path"].to_list())
