"""Broken files of every kind are skipped and reported by problems(); listings never crash."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mmtop import store


def _two_runs(root: Path) -> tuple[store.Run, store.Run]:
    with store.Run(experiment="ok", name="good", root=root, params={"lr": 0.1}) as good:
        good.log({"x": 1.0})
    with store.Run(experiment="bad", name="victim", root=root, params={"lr": 0.2}) as victim:
        victim.log({"x": 2.0})
        victim.summary["test/acc"] = 0.5
    return good, victim


def _listing(root: Path) -> tuple[store.Store, list[str]]:
    s = store.open(root)
    ids = s.runs()["run_id"].to_list()
    assert s.runs(where="status = 'finished'")["run_id"].to_list() == ids  # filtering works too
    return s, ids


def _reasons(s: store.Store) -> dict[str, str]:
    return {p.path: p.reason for p in s.problems()}


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b'{"run_id": "x", "schema_version": 1',
        b"[1, 2, 3]",
        b'"text"',
        b"\xff\xfe\x00garbage",
    ],
    ids=["syntax", "empty", "truncated", "list", "string", "binary"],
)
def test_invalid_run_json_is_skipped_and_reported(root: Path, content: bytes) -> None:
    good, victim = _two_runs(root)
    (victim.path / "run.json").write_bytes(content)
    s, ids = _listing(root)
    assert ids == [good.run_id]
    assert str(victim.path / "run.json") in _reasons(s)


def test_unknown_schema_version_is_reported_and_listing_continues(root: Path) -> None:
    good, victim = _two_runs(root)
    meta = json.loads((victim.path / "run.json").read_text())
    meta["schema_version"] = 99
    (victim.path / "run.json").write_text(json.dumps(meta))
    s, ids = _listing(root)
    assert ids == [good.run_id]
    reason = _reasons(s)[str(victim.path / "run.json")]
    assert "schema_version" in reason and "99" in reason


def test_invalid_params_json_keeps_the_run_without_params(root: Path) -> None:
    good, victim = _two_runs(root)
    (victim.path / "params.json").write_text('{"lr": 0.2,')
    s, ids = _listing(root)
    assert ids == sorted([good.run_id, victim.run_id])
    assert "params.json" in _reasons(s)[str(victim.path / "params.json")]
    row = s.runs(where=f"run_id = '{victim.run_id}'").row(0, named=True)
    assert row["params"]["lr"] is None  # the good run's lr keeps the column alive
    assert row["metrics"]["x"] == 2.0  # the rest of the run is still there


def test_invalid_summary_json_keeps_the_run(root: Path) -> None:
    good, victim = _two_runs(root)
    [summary] = list((victim.path / "summary").glob("*.json"))
    summary.write_text('{"metrics": {"x": {"last": ')
    s, ids = _listing(root)
    assert ids == sorted([good.run_id, victim.run_id])
    assert "summary" in _reasons(s)[str(summary)]
    row = s.runs(where=f"run_id = '{victim.run_id}'").row(0, named=True)
    assert row["status"] == "finished" and row["params"]["lr"] == 0.2
    assert s.history(victim.run_id)["value"].to_list() == [2.0]  # history is in Parquet


def test_summary_with_wrong_shapes_is_reported_not_fatal(root: Path) -> None:
    good, victim = _two_runs(root)
    [summary] = list((victim.path / "summary").glob("*.json"))
    summary.write_text(json.dumps({"metrics": {"x": {"last": "high"}}, "values": {}}))
    s, ids = _listing(root)
    assert ids == sorted([good.run_id, victim.run_id])
    assert s.problems() != []


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "no_footer"])
def test_damaged_parquet_part_skipped_other_parts_read(root: Path, damage: str) -> None:
    with store.Run(root=root, run_id="two-parts") as run:
        run.log({"x": 1.0}, step=0)
        run.log({"x": 2.0}, step=1)
    [first] = list((run.path / "metrics").glob("*.parquet"))
    with store.Run(root=root, run_id="two-parts", resume=True) as again:  # a second writer
        again.log({"x": 3.0, "y": 4.0})
    [second] = set((run.path / "metrics").glob("*.parquet")) - {first}
    data = second.read_bytes()
    damaged = {
        "truncate": data[: len(data) // 2],
        "garbage": b"PAR1" + bytes(range(256)) * 2,
        "empty": b"",
        "no_footer": data[:-8],
    }[damage]
    second.write_bytes(damaged)

    s = store.open(root)
    assert s.runs()["run_id"].to_list() == ["two-parts"]
    hist = s.history("two-parts")
    assert list(hist.select("key", "step", "value").iter_rows()) == [("x", 0, 1.0), ("x", 1, 2.0)]
    assert "Parquet" in _reasons(s)[str(second)]
    # Asking for keys only the broken part holds is empty, not an error.
    assert s.history("two-parts", keys=["y"]).height == 0


def test_tmp_leftovers_are_ignored(root: Path) -> None:
    good, victim = _two_runs(root)
    clean = store.open(root).runs().drop("path")
    leftovers = [
        victim.path / ".run.json.123-abcd.tmp",
        victim.path / ".params.json.123-abcd.tmp",
        victim.path / "summary" / ".deadbeef.json.123-abcd.tmp",
        victim.path / "metrics" / ".deadbeef-000007.parquet.123-abcd.tmp",
        root / ".mmtop-store.json.1-2.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"half a fi")
    s = store.open(root)
    assert s.runs().drop("path").equals(clean)
    assert s.history(victim.run_id)["value"].to_list() == [2.0]
    assert s.problems() == []


def test_empty_run_folder_is_reported_and_skipped(root: Path) -> None:
    good, _ = _two_runs(root)
    empty = root / "ok" / "20261127T000000Z-000000"
    empty.mkdir()
    no_meta = root / "ok" / "20261127T000001Z-000001"
    (no_meta / "metrics").mkdir(parents=True)
    s, ids = _listing(root)
    assert good.run_id in ids and empty.name not in ids and no_meta.name not in ids
    reasons = _reasons(s)
    assert "empty" in reasons[str(empty)]
    assert str(no_meta) in reasons


def test_stray_files_are_not_runs(root: Path) -> None:
    good, victim = _two_runs(root)
    (root / "notes.txt").write_text("not an experiment")
    (root / "ok" / "README").write_text("not a run")
    (root / "ok" / good.run_id / "unexpected.bin").write_bytes(b"\x00")
    s, ids = _listing(root)
    assert ids == sorted([good.run_id, victim.run_id])


# Run by an unprivileged user (tests/conftest.py): permission bits do not stop root.
LISTING_AS_USER = """
import json, sys
from mmtop import store
s = store.open(sys.argv[1])
ids = s.runs()["run_id"].to_list()
finished = s.runs(where="status = 'finished'")["run_id"].to_list()
print(json.dumps({"ids": ids, "finished": finished,
                  "reasons": {p.path: p.reason for p in s.problems()}}))
"""


def test_unreadable_folder_is_reported(unprivileged: Any) -> None:
    root = unprivileged.dir / "mmruns"
    good, victim = _two_runs(root)
    exp = root / "bad"
    exp.chmod(0)
    out = unprivileged.run(LISTING_AS_USER, str(root))
    assert out["ids"] == out["finished"] == [good.run_id]
    assert "unreadable" in out["reasons"][str(exp)]
    exp.chmod(0o755)


def test_unreadable_run_json_is_reported(unprivileged: Any) -> None:
    root = unprivileged.dir / "mmruns"
    good, victim = _two_runs(root)
    (victim.path / "run.json").chmod(0)
    out = unprivileged.run(LISTING_AS_USER, str(root))
    assert out["ids"] == out["finished"] == [good.run_id]
    assert str(victim.path / "run.json") in out["reasons"]


def test_problems_are_reset_by_the_next_listing(root: Path) -> None:
    good, victim = _two_runs(root)
    run_json = victim.path / "run.json"
    original = run_json.read_bytes()
    run_json.write_bytes(b"{")
    s = store.open(root)
    assert s.runs().height == 1 and len(s.problems()) == 1
    run_json.write_bytes(original)
    assert s.runs().height == 2 and s.problems() == []


def test_newer_store_marker_is_refused_clearly(root: Path) -> None:
    _two_runs(root)
    (root / "mmtop-store.json").write_text('{"format": "mmtop-store", "version": 2}')
    with pytest.raises(store.SchemaVersionError, match="version"):
        store.open(root)
    with pytest.raises(store.SchemaVersionError):
        store.Run(root=root)


@pytest.mark.parametrize("broken", ["params.json", "summary", "run.json"])
def test_old_broken_files_are_reported_by_every_open(root: Path, broken: str) -> None:
    """A broken file that has been there for a while (so the reader's cache trusts its
    mtime) is still reported by later opens, not only by the first, cold one."""
    import time

    good, victim = _two_runs(root)
    target = (
        next((victim.path / "summary").glob("*.json"))
        if broken == "summary"
        else victim.path / broken
    )
    target.write_text("{broken")
    when = time.time() - 3600
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.utime(os.path.join(dirpath, name), (when, when))
    for attempt in range(3):
        s = store.open(root)
        s.runs()
        assert str(target) in _reasons(s), f"open #{attempt + 1}: {s.problems()}"
