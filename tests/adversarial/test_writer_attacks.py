"""Attacks on the writer: steps past int64, a full disk (injected and real), run ids that
collide or end in a newline, params with control characters in keys or absurd nesting."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mmtop import store
from mmtop.store import buffer, flushing, folders, fsio, stream
from mmtop.store.errors import StoreWriteError
from mmtop.store.names import MAX_PARAM_DEPTH
from mmtop.store.parts import parse_part
from mmtop.store.registry import layout

REPO_ROOT = Path(__file__).resolve().parents[2]
QUIET: dict[str, Any] = {"capture_env": False, "capture_code": False, "capture_system": False}


@pytest.fixture(autouse=True)
def _cwd_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MMTOP_DIR", raising=False)


def _run(root: Path, **kwargs: Any) -> store.Run:
    return store.Run(root=root, **{**QUIET, "flush_every": 600.0, **kwargs})


def _steps(root: Path, run_id: str, key: str = "x") -> list[int]:
    history = store.open(root, cache=False).history(run_id)
    return sorted(history.filter(key=key)["step"].to_list())


def _meta(run: store.Run) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run.path / "run.json").read_bytes())
    return data


def _summary(run: store.Run) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run.path / "summary" / f"{run.writer_id}.json").read_bytes())
    return data


class Disk:
    """A disk that refuses every new file while `full` (ENOSPC), counting refusals."""

    def __init__(self) -> None:
        self.full = False
        self.refused = 0
        self._real = fsio.write_new_file

    def write_new_file(self, path: Path, data: bytes | memoryview) -> None:
        if self.full:
            self.refused += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        self._real(path, data)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    fake = Disk()
    monkeypatch.setattr(fsio, "write_new_file", fake.write_new_file)
    monkeypatch.setattr(flushing, "FINISH_WAIT", 0.3)
    return fake


# ------------------------------------------------------------------ 1. steps past int64
@pytest.mark.parametrize("step", [2**63, 2**70, np.uint64(2**63), 1e19])
def test_a_step_past_int64_is_refused_by_log_and_logs_nothing(root: Path, step: Any) -> None:
    run = _run(root, flush_every=0.05)
    for i in range(9):
        run.log({"x": float(i)}, step=i)
    with pytest.raises(
        ValueError, match=r"^step must be an integer from 0 to 2\*\*63-1 \(int64\), got \d+$"
    ):
        run.log({"x": 1.0}, step=step)
    for i in range(9, 1009):
        run.log({"x": float(i)}, step=i)
    run.finish()
    assert _steps(root, run.run_id) == list(range(1009))
    assert _meta(run)["status"] == "finished"


def test_the_largest_step_is_kept_and_no_step_follows_it(root: Path) -> None:
    run = _run(root)
    run.log({"x": 1.0}, step=2**63 - 1)
    with pytest.raises(ValueError, match=r"^the step after the last one must be an integer "):
        run.log({"x": 2.0})
    run.finish()
    assert _steps(root, run.run_id) == [2**63 - 1]


def test_a_flush_whose_conversion_fails_keeps_the_whole_buffer(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _run(root)
    for i in range(100):
        run.log({"x": float(i), "y": -float(i)}, step=i)
    real = buffer._to_batch
    monkeypatch.setattr(buffer, "_to_batch", lambda *a: (_ for _ in ()).throw(MemoryError()))
    with pytest.raises(MemoryError):
        run.flush()
    monkeypatch.setattr(buffer, "_to_batch", real)
    run.finish()
    assert _steps(root, run.run_id, "x") == list(range(100))
    assert _steps(root, run.run_id, "y") == list(range(100))


def test_a_flush_whose_write_fails_keeps_every_point(root: Path, disk: Disk) -> None:
    run = _run(root)
    for i in range(100):
        run.log({"x": float(i)}, step=i)
    disk.full = True
    with pytest.raises(OSError) as info:
        run.flush()
    assert info.value.errno == errno.ENOSPC
    assert not list(run.path.glob("metrics/*.parquet"))
    disk.full = False
    run.finish()
    assert _steps(root, run.run_id) == list(range(100))
    assert _summary(run)["metrics"]["x"]["count"] == 100


# ------------------------------------------------------------------ 2. a full disk
def test_points_logged_while_the_disk_is_full_are_written_once_it_has_room(
    root: Path, disk: Disk, wait_until: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    run = _run(root, flush_every=0.05)
    for i in range(910):
        run.log({"x": float(i)}, step=i)
    run.flush()
    disk.full = True
    for i in range(910, 100_910):
        run.log({"x": float(i)}, step=i)
    # The background thread tries, fails and backs off; training never sees it.
    wait_until(lambda: disk.refused >= 3, what="three refused background writes")
    disk.full = False
    run.finish()
    assert _steps(root, run.run_id) == list(range(100_910))
    assert _meta(run)["status"] == "finished"
    assert _summary(run)["metrics"]["x"]["count"] == 100_910
    assert "dropped" not in _summary(run)
    err = capfd.readouterr().err
    assert err.count(f"mmtop store: writing run {run.run_id} failed (") == 1
    assert err.count(f"mmtop store: run {run.run_id}: writing works again") == 1


def test_failed_writes_take_no_part_number(root: Path, disk: Disk) -> None:
    run = _run(root)
    step = 0

    def log_and_flush() -> None:
        nonlocal step
        run.log({"x": float(step)}, step=step)
        step += 1
        run.flush()

    log_and_flush()
    disk.full = True
    for _ in range(3):
        with pytest.raises(OSError):
            log_and_flush()
    disk.full = False
    for _ in range(16):  # enough parts for the writer to compact them
        log_and_flush()
    run.finish()  # raised "parts 1..19 ... are not consecutive" when failures took numbers
    assert _steps(root, run.run_id) == list(range(20))
    names = sorted(p.name for p in run.path.glob("metrics/*.parquet"))
    assert names == [f"{run.writer_id}-000001-000020.parquet"]


def test_a_disk_that_stays_full_ends_the_run_failed_with_a_clear_error(
    root: Path, disk: Disk
) -> None:
    run = _run(root)
    for i in range(10):
        run.log({"x": float(i)}, step=i)
    run.flush()
    disk.full = True
    for i in range(10, 510):
        run.log({"x": float(i)}, step=i)
    message = (
        f"run {run.run_id}: 500 points could not be written to {run.path}: "
        f"[Errno 28] No space left on device"
    )
    with pytest.raises(store.StoreWriteError, match=f"^{re.escape(message)}") as info:
        run.finish()
    assert isinstance(info.value, OSError) and info.value.errno == errno.ENOSPC
    meta = _meta(run)
    assert meta["status"] == "failed"
    assert meta["ended"] is not None
    assert meta["error"]["type"] == "StoreWriteError"
    assert meta["error"]["message"].startswith(message)
    disk.full = False
    reopened = store.open(root, cache=False).run(run.run_id)
    assert reopened.status == "failed"
    assert _steps(root, run.run_id) == list(range(10))


def test_a_full_disk_on_leaving_a_failing_block_keeps_the_original_error(
    root: Path, disk: Disk, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(RuntimeError, match="diverged"), _run(root) as run:
        run.log({"x": 1.0}, step=0)
        disk.full = True
        raise RuntimeError("diverged")
    meta = _meta(run)
    assert (meta["status"], meta["error"]["message"]) == ("failed", "diverged")
    assert f"mmtop store: run {run.run_id}: 1 point could not be written" in capfd.readouterr().err


def test_memory_stays_bounded_while_the_disk_is_full(
    root: Path, disk: Disk, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(stream, "MAX_PENDING_POINTS", 1000)
    run = _run(root)
    disk.full = True
    for batch in range(10):  # ten flushes of 300 points each, all refused
        for i in range(batch * 300, batch * 300 + 300):
            run.log({"x": float(i)}, step=i)
        with pytest.raises(OSError):
            run.flush()
    disk.full = False
    run.finish()
    # The oldest batches went first: the newest 900 points (three batches) are kept.
    assert _steps(root, run.run_id) == list(range(2100, 3000))
    assert _summary(run)["dropped"] == 2100
    assert _summary(run)["metrics"]["x"]["count"] == 900
    err = capfd.readouterr().err
    assert err.count("points wait in memory; the oldest unwritten points are discarded") == 1


# A real full disk: a 2 MB tmpfs (needs root, or CAP_SYS_ADMIN).
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_a_real_full_disk_loses_no_point_once_space_returns(
    small_disk: Path, wait_until: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    root = small_disk / "store"
    run = _run(root, flush_every=0.05)
    for i in range(910):
        run.log({"x": float(i)}, step=i)
    run.flush()
    filler = _fill(small_disk)
    for i in range(910, 100_910):
        run.log({"x": float(i)}, step=i)
    wait_until(lambda: "failed ([Errno 28]" in capfd.readouterr().err, what="a refused write")
    filler.unlink()
    run.finish()
    assert _steps(root, run.run_id) == list(range(100_910))
    assert _meta(run)["status"] == "finished"


def test_a_real_disk_that_stays_full_records_the_failure(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flushing, "FINISH_WAIT", 0.3)
    root = small_disk / "store"
    run = _run(root)
    for i in range(910):
        run.log({"x": float(i)}, step=i)
    run.flush()
    filler = _fill(small_disk)
    for i in range(910, 10_910):
        run.log({"x": float(i)}, step=i)
    with pytest.raises(StoreWriteError, match="10,000 points could not be written .* No space"):
        run.finish()
    assert _meta(run)["status"] == "failed"  # written in place: no room for a new file
    filler.unlink()
    assert store.open(root, cache=False).run(run.run_id).status == "failed"
    assert _steps(root, run.run_id) == list(range(910))


# ------------------------------------------------------------------ 4. colliding run ids
def _ids(monkeypatch: pytest.MonkeyPatch, *ids: str) -> None:
    drawn = iter(ids)
    monkeypatch.setattr(folders, "new_run_id", lambda: next(drawn))


def test_two_runs_that_draw_the_same_id_stay_apart(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    same, other = "20260101T000000Z-aaaaaaaaaaaa", "20260101T000000Z-bbbbbbbbbbbb"
    _ids(monkeypatch, same, same, other)
    first = _run(root, params={"lr": 0.1})
    second = _run(root, params={"lr": 0.2})
    first.log({"x": 1.0}, step=0)
    second.log({"x": 2.0}, step=0)
    first.finish()
    second.finish()
    assert (first.run_id, second.run_id) == (same, other)
    s = store.open(root, cache=False)
    assert s.run(same).params == {"lr": 0.1}
    assert s.run(other).params == {"lr": 0.2}
    assert _steps(root, same) == [0] and _steps(root, other) == [0]


def test_concurrent_creators_that_draw_one_id_get_one_run_each(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 8
    lock = threading.Lock()
    drawn: list[str] = []

    def draw() -> str:
        with lock:
            # Every creator's first draw is the same id; the retries are all different.
            rid = "20260101T000000Z-000000000000"
            if drawn.count(rid) >= n:
                rid = f"20260101T000000Z-{len(drawn):012x}"
            drawn.append(rid)
            return rid

    monkeypatch.setattr(folders, "new_run_id", draw)
    store.Run(root=root, **QUIET).finish()  # the store marker exists before the race
    drawn.clear()
    start = threading.Barrier(n)
    runs: list[store.Run] = []

    def create(i: int) -> None:
        start.wait()
        run = store.Run(root=root, params={"seed": i}, **QUIET)
        with lock:
            runs.append(run)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for run in runs:
        run.finish()
    ids = {run.run_id for run in runs}
    assert len(ids) == n
    s = store.open(root, cache=False)
    assert sorted(s.run(run.run_id).params["seed"] for run in runs) == list(range(n))


def test_an_explicit_run_id_still_joins_the_run(root: Path) -> None:
    first = _run(root, run_id="shared", params={"a": 1})
    second = _run(root, run_id="shared", params={"b": 2})
    assert second.path == first.path
    second.finish()
    first.finish()
    assert store.open(root, cache=False).run("shared").params == {"a": 1, "b": 2}


def test_generated_ids_are_time_sortable_with_48_random_bits() -> None:
    import datetime as dt

    from mmtop.store.ids import new_run_id

    times = [dt.datetime(2026, 1, 1, 0, 0, s, tzinfo=dt.UTC) for s in (0, 1, 2, 59)]
    ids = [new_run_id(t) for t in times]
    for rid in ids:
        assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{12}", rid), rid
    assert sorted(ids) == ids
    assert ids[0].startswith("20260101T000000Z-")
    assert "`YYYYMMDDTHHMMSSZ-xxxxxxxxxxxx`" in (REPO_ROOT / "docs" / "FORMAT.md").read_text()


# ------------------------------------------------------------------ 5. names with newlines
@pytest.mark.parametrize("run_id", ["abc\n", "abc\r", "\nabc", "ab\nc", "abc\x00", "abc\u2028"])
def test_a_run_id_with_a_line_break_or_control_is_refused(root: Path, run_id: str) -> None:
    with pytest.raises(ValueError, match=r"^run_id must be 1-128 letters"):
        _run(root, run_id=run_id)
    assert not root.exists() or not [p for p in root.rglob("*") if "abc" in p.name]


@pytest.mark.parametrize(
    "name",
    [
        "abcd1234-000001.parquet\n",
        "abcd1234-000001-000002.parquet\n",
        "abcd1234-\u0660\u0660\u0660\u0660\u0660\u0661.parquet",  # Arabic-Indic digits
    ],
)
def test_part_names_match_whole_and_in_ascii_digits(name: str) -> None:
    assert parse_part(Path(name)) is None
    assert parse_part(Path(name.strip().replace("\u0660", "0").replace("\u0661", "1")))


def test_registry_names_aliases_and_events_match_whole() -> None:
    with pytest.raises(ValueError, match="^model name must be"):
        layout.check_model_name("resnet\n")
    with pytest.raises(ValueError, match="^alias must be"):
        layout.check_alias("prod\n")
    assert layout.event_seq("00000001.json\n") is None
    assert layout.event_seq("\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0661.json") is None
    assert layout.event_seq("00000001.json") == 1


# ------------------------------------------------------------------ 12. param keys
@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        (
            {"opt\x1b]52;c;cHduZWQ=\x07\x1b[2J": "sgd"},
            ValueError,
            r"param key contains a control character: 'opt\x1b]52;c;cHduZWQ=\x07\x1b[2J'",
        ),
        (
            {"model": {"opt": {"bad\nkey": 1}}},
            ValueError,
            r"param key in 'model.opt' contains a control character: 'bad\nkey'",
        ),
        ({"layers": [{"": 1}]}, ValueError, "param key in 'layers[0]' must not be empty"),
        ({"x" * 257: 1}, ValueError, "param key is longer than 256 characters: 'xxxxx"),
        ({1: "a"}, TypeError, "param key must be a string, got int: 1"),
        ({"a\u202eb": 1}, ValueError, r"param key contains a control character: 'a\u202eb'"),
    ],
)
def test_params_with_bad_keys_are_refused_before_anything_is_written(
    root: Path, params: dict[Any, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        _run(root, params=params)
    assert str(info.value).startswith(message)
    assert not root.exists()
    run = _run(root, params={"ok": 1})
    with pytest.raises(error) as info:
        run.log_params(params)
    assert str(info.value).startswith(message)
    run.finish()
    assert store.open(root, cache=False).run(run.run_id).params == {"ok": 1}


# ------------------------------------------------------------------ 7. nesting depth
def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_params_nested_as_deep_as_allowed_round_trip(root: Path) -> None:
    params = _nested(MAX_PARAM_DEPTH)
    run = _run(root, params=params)
    run.finish()
    assert store.open(root, cache=False).run(run.run_id).params == params


@pytest.mark.parametrize(
    "params",
    [
        _nested(MAX_PARAM_DEPTH + 1),
        _nested(360),
        {"a": [_nested(MAX_PARAM_DEPTH - 1)]},
        {"grid": np.zeros((1,) * MAX_PARAM_DEPTH)},
    ],
    ids=["65-objects", "360-objects", "lists-count", "64-dim-array"],
)
def test_params_nested_too_deep_are_refused(root: Path, params: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^params are nested more than 64 levels deep at '"):
        _run(root, params=params)
    assert not root.exists()


def test_params_that_contain_themselves_are_refused(root: Path) -> None:
    looped: dict[str, Any] = {"lr": 0.1}
    looped["self"] = looped
    lists: list[Any] = []
    lists.append(lists)
    for params in (looped, {"l": lists}):
        with pytest.raises(ValueError, match="nested more than 64 levels deep"):
            _run(root, params=params)


def test_dataset_fields_nested_too_deep_or_with_bad_keys_are_refused(root: Path) -> None:
    run = _run(root)
    with pytest.raises(ValueError, match=r"^dataset fields are nested more than 63 levels deep"):
        run.log_dataset({"x": [1, 2]}, "train", split=_nested(MAX_PARAM_DEPTH - 1))
    with pytest.raises(ValueError, match=r"^dataset field in 'meta' contains a control character"):
        run.log_dataset({"x": [1, 2]}, "train", meta={"a\x1b[2J": 1})
    run.log_dataset({"x": [1, 2]}, "train", split={"kind": "holdout"})
    deepest = _nested(MAX_PARAM_DEPTH - 2)  # the list, the entry, then 62 levels: 64 in all
    run.log_dataset({"x": [1, 2]}, "val", split=deepest)
    run.finish()
    info = store.open(root, cache=False).run(run.run_id)
    assert info.problems == []
    assert [(i["name"], i["split"]) for i in info.inputs] == [
        ("train", {"kind": "holdout"}),
        ("val", deepest),
    ]
