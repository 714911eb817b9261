"""The reader's cache under <root>/.mmtop/: warm equals cold, changes show up, optional."""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import mmtop.store.reader  # noqa: F401  (binds store.reader for monkeypatching)
from mmtop import store
from mmtop.store.frame_cache import FRAME_NAME
from mmtop.store.records import Problem, read_record

HOUR = 3600


def _backdate(root: Path, seconds: float = HOUR) -> None:
    """Age every file, as if the runs ended long ago (recent files are never trusted)."""
    when = time.time() - seconds
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.utime(os.path.join(dirpath, name), (when, when))


def _populate(root: Path) -> list[str]:
    ids = []
    for i in range(5):
        with store.Run(
            experiment=f"exp{i % 2}",
            name=f"run{i}",
            root=root,
            params={"lr": 10.0**-i, "model": {"depth": i}},
            tags=[f"t{i}"],
        ) as run:
            run.log({"loss": 1.0 / (i + 1), "acc": i / 10})
            run.summary["test/acc"] = i / 5
        ids.append(run.run_id)
    return ids


@pytest.fixture
def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run folders whose JSON files the reader actually parsed (cache misses)."""
    calls: list[str] = []
    real = read_record

    def spy(run: str | Path, problems: list[Problem]) -> dict[str, Any] | None:
        calls.append(str(run))
        return real(run, problems)

    monkeypatch.setattr(store.reader, "read_record", spy)
    return calls


def test_warm_open_equals_cold_open(root: Path, count_reads: list[str]) -> None:
    _populate(root)
    _backdate(root)
    cold = store.open(root).runs()
    assert len(count_reads) == 5
    assert (root / ".mmtop").is_dir()

    count_reads.clear()
    warm = store.open(root).runs()
    assert count_reads == []  # served from the cache
    assert warm.equals(cold)

    shutil.rmtree(root / ".mmtop")
    again = store.open(root).runs()
    assert len(count_reads) == 5
    assert again.equals(cold)


def test_only_changed_runs_are_reread(root: Path, count_reads: list[str]) -> None:
    ids = _populate(root)
    _backdate(root)
    store.open(root).runs()
    s = store.open(root)
    folder = Path(s.runs(where=f"run_id = '{ids[2]}'")["path"][0])
    count_reads.clear()
    # Replaced by rename, as every writer does (docs/FORMAT.md): the folder's mtime moves.
    tmp = folder / ".params.json.tmp"
    tmp.write_text(json.dumps({"lr": 123.0, "model": {"depth": 9}}))
    os.replace(tmp, folder / "params.json")
    df = s.runs()
    assert count_reads == [str(folder)]
    row = df.filter(df["run_id"] == ids[2]).row(0, named=True)
    assert row["params"] == {"lr": 123.0, "model": {"depth": 9}}


def test_tags_and_status_changed_on_disk_show_up(root: Path) -> None:
    ids = _populate(root)
    _backdate(root)
    s = store.open(root)
    assert s.runs()["status"].to_list() == ["finished"] * 5
    run_json = Path(s.runs(where=f"run_id = '{ids[0]}'")["path"][0]) / "run.json"
    meta = json.loads(run_json.read_text())
    meta.update(status="killed", tags=["promoted", "t0"])
    run_json.write_text(json.dumps(meta))
    for reader in (s, store.open(root)):
        row = reader.runs(where=f"run_id = '{ids[0]}'").row(0, named=True)
        assert row["status"] == "killed"
        assert row["tags"] == ["promoted", "t0"]


def test_same_size_edit_within_one_mtime_tick_shows_up(root: Path) -> None:
    """The racy-mtime guard: an edit that keeps size and mtime must not be hidden by the cache
    when the cache was written within the same tick as the file."""
    with store.Run(root=root, tags=["aaaa"], run_id="racy-1") as run:
        run.log({"x": 1.0})
    run_json = run.path / "run.json"
    s = store.open(root)
    assert s.runs()["tags"].to_list() == [["aaaa"]]  # cached now
    before = os.stat(run_json)
    run_json.write_text(run_json.read_text().replace('"aaaa"', '"bbbb"'))
    os.utime(run_json, ns=(before.st_atime_ns, before.st_mtime_ns))  # a coarse clock
    after = os.stat(run_json)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert store.open(root).runs()["tags"].to_list() == [["bbbb"]]
    assert s.runs()["tags"].to_list() == [["bbbb"]]


def test_liveness_is_not_cached(root: Path) -> None:
    with store.Run(root=root, run_id="live-1") as run:
        run.log({"x": 1.0})
        folder = run.path
    meta = json.loads((folder / "run.json").read_text())
    meta.update(status="running", ended=None, host="elsewhere.example")
    (folder / "run.json").write_text(json.dumps(meta))
    _backdate(root, 600)  # heartbeat 10 minutes old, on another host
    assert store.open(root, stale_after=HOUR).runs()["status"].to_list() == ["running"]
    assert store.open(root, stale_after=60).runs()["status"].to_list() == ["crashed"]
    assert store.open(root, stale_after=HOUR).runs()["status"].to_list() == ["running"]


def test_runs_removed_and_added_after_a_cached_read(root: Path) -> None:
    ids = _populate(root)
    _backdate(root)
    s = store.open(root)
    s.runs()
    shutil.rmtree(Path(s.runs(where=f"run_id = '{ids[1]}'")["path"][0]))
    with store.Run(root=root, run_id="zz-new") as run:
        run.log({"x": 1.0})
    listed = store.open(root).runs()["run_id"].to_list()
    assert listed == sorted([*ids[:1], *ids[2:], "zz-new"])
    assert s.runs()["run_id"].to_list() == listed


def test_unwritable_cache_still_lists(root: Path, count_reads: list[str]) -> None:
    _populate(root)
    _backdate(root)
    expected = store.open(root).runs()
    shutil.rmtree(root / ".mmtop")
    (root / ".mmtop").write_text("a file where the cache folder should be")
    for _ in range(2):
        s = store.open(root)
        assert s.runs().equals(expected)
        assert s.problems() == []
    assert (root / ".mmtop").read_text().startswith("a file")


def test_garbage_cache_is_ignored(root: Path) -> None:
    _populate(root)
    _backdate(root)
    expected = store.open(root).runs()
    for path in (root / ".mmtop").iterdir():
        if path.is_file():
            path.write_bytes(b"\x00garbage{[")
    assert store.open(root).runs().equals(expected)
    assert store.open(root).runs().equals(expected)  # and the rebuilt cache is good


LIST_AS_USER = """
import json, sys
from mmtop import store
root, out = sys.argv[1], sys.argv[2]
s = store.open(root)
s.runs().write_ipc(out)
try:
    s.add_tags(s.runs()["run_id"][0], ["x"])
    refused = None
except store.ReadOnlyStoreError as exc:
    refused = str(exc)
print(json.dumps({"read_only": s.read_only, "refused": refused}))
"""


def test_read_only_store_lists(unprivileged: Any) -> None:
    # Run by an unprivileged user (tests/conftest.py): permission bits do not stop root.
    root = unprivileged.dir / "mmruns"
    _populate(root)
    expected = store.open(root).runs()
    shutil.rmtree(root / ".mmtop")
    for dirpath, _, _ in os.walk(root):
        os.chmod(dirpath, 0o555)
    listed = unprivileged.dir / "listed"
    listed.mkdir()
    out = unprivileged.run(LIST_AS_USER, str(root), str(listed / "runs.arrow"))
    assert out["read_only"] is True
    assert out["refused"] is not None and "read-only" in out["refused"]
    assert pl.read_ipc(listed / "runs.arrow").equals(expected)
    assert not (root / ".mmtop").exists()


def _cold(root: Path) -> pl.DataFrame:
    shutil.rmtree(root / ".mmtop", ignore_errors=True)
    return store.open(root).runs().drop("status", "duration_s")


def test_new_param_keys_merge_into_a_warm_frame_as_a_cold_read_would(root: Path) -> None:
    _populate(root)
    _backdate(root)
    s = store.open(root)
    s.runs()
    with store.Run(experiment="exp0", root=root, params={"lr": 0.5, "batch": 64}) as run:
        run.log({"new/metric": 3.0})
    warm = s.runs().drop("status", "duration_s")  # same Store: updated row by row
    assert warm.filter(run_id=run.run_id)["params"].struct.field("batch").to_list() == [64]
    assert warm.equals(_cold(root))


def test_a_param_changing_type_rebuilds_the_frame_by_the_type_rule(root: Path) -> None:
    _populate(root)
    _backdate(root)
    s = store.open(root)
    assert s.runs()["params"].struct.field("lr").dtype == pl.Float64
    with store.Run(experiment="exp0", root=root, params={"lr": "warmup-cosine"}):
        pass
    warm = s.runs()
    lr = warm["params"].struct.field("lr")
    assert lr.dtype == pl.String  # mixed float and str: JSON text, str as is
    assert sorted(lr.to_list())[-1] == "warmup-cosine"
    assert "0.001" in lr.to_list()
    assert warm.drop("status", "duration_s").equals(_cold(root))


def test_a_live_run_updates_in_a_reused_store(root: Path) -> None:
    run = store.Run(root=root, flush_every=600, capture_system=False)
    s = store.open(root)
    try:
        run.log({"loss": 1.0}, step=0)
        run.flush()
        assert s.runs()["metrics"].struct.field("loss").to_list() == [1.0]
        run.log({"loss": 0.25}, step=1)
        run.flush()
        frame = s.runs()
        assert frame["metrics"].struct.field("loss").to_list() == [0.25]
        assert frame["last_step"].to_list() == [1]
    finally:
        run.finish()


def test_removing_a_run_narrows_types_and_fields_as_a_cold_read_would(root: Path) -> None:
    _populate(root)
    with store.Run(experiment="exp0", root=root, params={"lr": "auto", "model": "resnet"}) as odd:
        odd.log({"only/here": 1.0})
    _backdate(root)
    s = store.open(root)
    assert s.runs()["params"].struct.field("lr").dtype == pl.String
    shutil.rmtree(odd.path)
    warm = s.runs()
    assert warm.schema["params"] == _cold(root).schema["params"]
    metrics = warm.schema["metrics"]
    assert isinstance(metrics, pl.Struct)
    assert "only/here" not in [f.name for f in metrics.fields]
    assert warm.filter(pl.sql_expr("params.model.depth = 3")).height == 1
    assert warm.drop("status", "duration_s").equals(_cold(root))


def test_building_in_chunks_types_the_frame_as_one_build(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populate(root)
    with store.Run(experiment="exp1", root=root, params={"lr": "auto", "extra": [1, 2]}):
        pass
    whole = store.open(root, cache=False).runs().drop("status", "duration_s")
    monkeypatch.setattr(store.reader, "BUILD_CHUNK", 2)  # 6 runs: 3 chunks, lr types differ
    chunked = store.open(root, cache=False).runs().drop("status", "duration_s")
    assert chunked.schema == whole.schema
    assert chunked.equals(whole)


def _keyed_runs(root: Path) -> tuple[str, str]:
    """Two runs whose metric keys differ, one with a NaN (data) where the other has none."""
    with store.Run(experiment="e", name="nan", root=root, capture_system=False) as a:
        a.log({"x": float("nan"), "y": 1.0}, step=0)
    with store.Run(experiment="e", name="plain", root=root, capture_system=False) as b:
        b.log({"y": 2.0, "z": 3.0}, step=0)
    _backdate(root)
    return a.run_id, b.run_id


def test_a_null_metric_stays_distinct_from_a_nan_one_through_the_cache(root: Path) -> None:
    nan_run, plain_run = _keyed_runs(root)
    cold = store.open(root).runs()
    warm = store.open(root).runs()
    assert warm.equals(cold)
    for column in ("metrics", "metrics_min", "metrics_max"):
        x = dict(zip(warm["run_id"], warm[column].struct.field("x"), strict=True))
        assert math.isnan(x[nan_run]) and x[plain_run] is None
        dtype = warm.schema[column]
        assert isinstance(dtype, pl.Struct)
        assert [f.name for f in dtype.fields] == ["x", "y", "z"]


def test_a_cache_in_an_older_layout_is_not_read_and_goes_away(root: Path) -> None:
    _keyed_runs(root)
    expected = store.open(root, cache=False).runs()
    old = root / ".mmtop" / "runs-frame-v1.parquet"
    old.parent.mkdir()
    layout = expected.drop("params", "datasets").with_columns(pl.lit("x").alias("_sig"))
    layout.write_parquet(old)  # the metrics as structs, as the older layout had them
    assert store.open(root).runs().equals(expected)
    assert not old.exists()
    assert [p.name for p in old.parent.iterdir()] == [FRAME_NAME]


@pytest.mark.parametrize(
    "keys",
    [
        {"metrics": ["x", "y"]},  # fewer keys than the column holds
        {"metrics": ["z", "y", "x"]},  # out of order
        {"metrics": ["x", "x", "y"]},  # twice the same
        {"metrics": ["x", 1, "z"]},  # not text
        {"metrics_min": None},
        None,  # no keys at all
    ],
)
def test_a_cache_whose_keys_do_not_fit_its_columns_is_rebuilt(root: Path, keys: Any) -> None:
    _keyed_runs(root)
    expected = store.open(root).runs()
    cache = root / ".mmtop" / FRAME_NAME
    meta = pl.read_parquet_metadata(cache)
    if keys is None:
        del meta["mmtop.keys"]
    else:
        meta["mmtop.keys"] = json.dumps({**json.loads(meta["mmtop.keys"]), **keys})
    pl.read_parquet(cache).write_parquet(cache, metadata=meta)
    assert store.open(root).runs().equals(expected)
