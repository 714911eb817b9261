"""Crafted records and files: bad shapes, absurd nesting, FIFOs, devices, links out of the
store, huge console logs, out-of-range times. Each costs one run, field or file (reported in
`problems()`), never a listing, a hang, a crash or a byte read from outside the store."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from mmtop import store
from mmtop.store import safe_files
from mmtop.store.frame_cache import FRAME_NAME
from mmtop.tui.cli import main
from mmtop.tui.run_extras import console_tail, gather
from mmtop.tui.widgets.overview import OverviewPane

OFF: dict[str, Any] = {"capture_env": False, "capture_code": False, "capture_system": False}
SECRET = "SECRET-FROM-OUTSIDE-THE-STORE"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _runs(root: Path) -> tuple[store.Run, store.Run]:
    """A good run and a victim run whose files the test then damages."""
    with store.Run(experiment="ok", name="good", root=root, params={"lr": 0.1}, **OFF) as good:
        good.log({"x": 1.0})
    with store.Run(experiment="bad", name="victim", root=root, params={"lr": 0.2}, **OFF) as run:
        run.log({"x": 2.0, "y": 3.0})
        run.summary["test/acc"] = 0.5
    return good, run


def _summary(run: store.Run) -> Path:
    (found,) = (run.path / "summary").glob("*.json")
    return found


def _reasons(s: store.Store) -> list[str]:
    return [f"{Path(p.path).name}: {p.reason}" for p in s.problems()]


def _mmtop(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real entry point in a fresh process (a segfault or hang must not take pytest),
    its address space capped so that reading an endless file fails instead of swapping."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    env = {k: v for k, v in os.environ.items() if k != "MMTOP_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "mmtop.tui.cli", *map(str, args)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=cap_memory,
        check=False,
    )


def _show(root: Path, ref: str, capsysbinary: pytest.CaptureFixture[bytes]) -> str:
    code = main(["show", ref, "--root", str(root)])
    out = capsysbinary.readouterr().out.decode()
    assert code == 0
    return out


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# ------------------------------------------------------------------ 7. record shapes
SUMMARY_ATTACKS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "updated-text": (lambda d: d.update(updated="soon"), "'updated' is not a time"),
    "metrics-list": (lambda d: d.update(metrics=[1]), "summary 'metrics' is not a JSON object"),
    "values-text": (lambda d: d.update(values="x"), "summary 'values' is not a JSON object"),
    "last-step-inf": (
        lambda d: d["metrics"]["x"].update(last_step=float("inf")),
        "'last_step' is not a 64-bit integer",
    ),
    "last-step-1e30": (
        lambda d: d["metrics"]["x"].update(last_step=1e30),
        "'last_step' is not a 64-bit integer",
    ),
    "last-huge-int": (lambda d: d["metrics"]["x"].update(last=10**400), "'last' is not a number"),
    "stat-not-object": (lambda d: d["metrics"].update(x=[1, 2]), "not a JSON object"),
    "count-negative": (lambda d: d["metrics"]["x"].update(count=-1), "'count' is not a count"),
    "value-huge-int": (lambda d: d["values"].update({"test/acc": 10**400}), "bad summary value"),
}


@pytest.mark.parametrize("attack", sorted(SUMMARY_ATTACKS))
def test_bad_summary_costs_the_field_not_the_listing(
    root: Path, attack: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    good, victim = _runs(root)
    change, reason = SUMMARY_ATTACKS[attack]
    doc = json.loads(_summary(victim).read_text())
    change(doc)
    _summary(victim).write_text(json.dumps(doc))
    s = store.open(root)
    frame = s.runs()
    assert sorted(frame["run_id"].to_list()) == sorted([good.run_id, victim.run_id])
    assert any(reason in r for r in _reasons(s)), _reasons(s)
    row = frame.filter(pl.col("run_id") == victim.run_id).row(0, named=True)
    if attack in ("updated-text", "value-huge-int"):
        assert row["metrics"]["x"] == 2.0 and row["last_step"] == 0  # the rest still counts
    if attack == "last-step-1e30":
        assert row["metrics"]["x"] is None and row["metrics"]["y"] == 3.0
    assert main(["ls", "--root", str(root)]) == 0
    assert victim.run_id in _show(root, victim.run_id, capsysbinary)


@pytest.mark.parametrize("depth", [5_000, 100_000])
@pytest.mark.parametrize("name", ["run.json", "params.json"])
def test_absurdly_nested_record_is_reported(root: Path, name: str, depth: int) -> None:
    good, victim = _runs(root)
    if name == "run.json":
        meta = json.loads((victim.path / name).read_text())
        text = json.dumps(meta)[:-1] + ', "deep": ' + _nested(depth) + "}"
    else:
        text = _nested(depth)
    (victim.path / name).write_text(text)
    s = store.open(root)
    ids = s.runs()["run_id"].to_list()
    expected = [good.run_id] if name == "run.json" else sorted([good.run_id, victim.run_id])
    assert sorted(ids) == sorted(expected)
    assert f"{name}: unreadable {name}: nested deeper than 64 levels" in _reasons(s)


def test_params_nested_360_deep_never_crash_a_later_open(root: Path) -> None:
    """The first `ls` writes the cache; a cache polars cannot read back killed every open."""
    good, victim = _runs(root)
    (victim.path / "params.json").write_text(_nested(360))
    for _ in range(2):
        done = _mmtop("ls", "--root", root, "--format", "json")
        assert done.returncode == 0, done.stderr
        assert sorted(r["run_id"] for r in json.loads(done.stdout)) == sorted(
            [good.run_id, victim.run_id]
        )


def test_a_cache_nested_too_deep_is_rebuilt_not_read(root: Path) -> None:
    """A cache written before records were bounded would crash polars: it is ignored."""
    good, victim = _runs(root)
    assert len(store.open(root).runs()) == 2  # writes the cache
    cache = root / ".mmtop" / FRAME_NAME
    table = pq.read_table(cache)
    deep = pa.array([1, 2])
    for _ in range(360):
        deep = pa.StructArray.from_arrays([deep], names=["a"])
    pq.write_table(table.set_column(table.schema.get_field_index("params"), "params", deep), cache)
    done = _mmtop("ls", "--root", root, "-q")
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == sorted([good.run_id, victim.run_id])


def test_a_fifo_in_place_of_the_cache_is_ignored(root: Path) -> None:
    good, victim = _runs(root)
    (root / ".mmtop").mkdir(exist_ok=True)
    os.mkfifo(root / ".mmtop" / FRAME_NAME)
    done = _mmtop("ls", "--root", root, "-q", timeout=30)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == sorted([good.run_id, victim.run_id])


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("pid", 2**70, "'pid' is not a 64-bit integer: field skipped"),
        ("tags", 5, "'tags' is not a list of text: field skipped"),
        ("tags", "abc", "'tags' is not a list of text: field skipped"),
        ("host", {"a": [1]}, "'host' is not text: field skipped"),
        ("command", 7, "'command' is not a list: field skipped"),
    ],
)
def test_bad_run_json_field_is_skipped_and_reported(
    root: Path, field: str, value: Any, reason: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    good, victim = _runs(root)
    meta = json.loads((victim.path / "run.json").read_text())
    meta[field] = value
    (victim.path / "run.json").write_text(json.dumps(meta))
    s = store.open(root)
    frame = s.runs()
    assert sorted(frame["run_id"].to_list()) == sorted([good.run_id, victim.run_id])
    assert f"run.json: {reason}" in _reasons(s)
    row = frame.filter(pl.col("run_id") == victim.run_id).row(0, named=True)
    assert row[field] in (None, [])
    assert "victim" in _show(root, victim.run_id, capsysbinary)


# ------------------------------------------------------------------ 8. not regular files
@pytest.mark.parametrize("name", ["params.json", "run.json", "inputs.json"])
def test_fifo_record_does_not_hang_the_listing(root: Path, name: str) -> None:
    good, victim = _runs(root)
    target = victim.path / name
    target.unlink(missing_ok=True)
    os.mkfifo(target)
    done = _mmtop("ls", "--root", root, "-q", timeout=30)
    assert done.returncode == 0, done.stderr
    listed = [good.run_id] if name == "run.json" else [good.run_id, victim.run_id]
    assert sorted(done.stdout.split()) == sorted(listed)
    s = store.open(root)
    s.runs()
    if name != "inputs.json":  # inputs only feed the datasets column
        assert f"{name}: unreadable {name}: not a regular file" in _reasons(s)


@pytest.mark.parametrize("name", ["notes.md", "console.log", "comments.jsonl", "env.json"])
def test_fifo_run_file_does_not_hang_show(root: Path, name: str) -> None:
    _, victim = _runs(root)
    os.mkfifo(victim.path / name)
    done = _mmtop("show", victim.run_id, "--root", root, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "victim" in done.stdout
    info = store.open(root).run(victim.run_id)
    if name == "console.log":
        lines, error = console_tail(info)
        assert (lines, error) == ([], "RefusedFile: not a regular file")
    else:
        gather(info)
        assert f"{name}: unreadable: not a regular file" in [
            f"{Path(p.path).name}: {p.reason}" for p in info.problems
        ]


def test_summary_linked_to_dev_zero_is_refused(root: Path) -> None:
    good, victim = _runs(root)
    summary = _summary(victim)
    summary.unlink()
    summary.symlink_to("/dev/zero")
    done = _mmtop("ls", "--root", root, "-q", timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == sorted([good.run_id, victim.run_id])
    s = store.open(root)
    s.runs()
    assert f"{summary.name}: unreadable summary: symbolic link out of the store" in _reasons(s)


@pytest.mark.parametrize(
    ("name", "cap"),
    [
        ("summary", safe_files.CAP_SUMMARY),
        ("params.json", safe_files.CAP_PARAMS),
        ("run.json", safe_files.CAP_RUN_JSON),
    ],
)
def test_file_over_its_cap_is_refused_unread(root: Path, name: str, cap: int) -> None:
    good, victim = _runs(root)
    target = _summary(victim) if name == "summary" else victim.path / name
    with open(target, "r+b") as f:
        f.truncate(cap + 1)  # sparse: costs no disk, and is never read
    s = store.open(root)
    ids = s.runs()["run_id"].to_list()
    assert (victim.run_id in ids) is (name != "run.json")
    assert any(f"larger than the {cap >> 20} MiB cap" in r for r in _reasons(s)), _reasons(s)


# ------------------------------------------------------------------ 14. links
@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(SECRET + "\n")
    return secret


@pytest.mark.parametrize("name", ["notes.md", "code.patch", "env.json", "comments.jsonl"])
def test_show_does_not_follow_a_link_out_of_the_store(
    root: Path, outside: Path, name: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    _, victim = _runs(root)
    (victim.path / name).symlink_to(outside)
    text = _show(root, victim.run_id, capsysbinary)
    assert SECRET not in text
    assert f"{name}: unreadable: symbolic link out of the store" in text
    main(["show", victim.run_id, "--root", str(root), "--format", "json"])
    assert SECRET not in capsysbinary.readouterr().out.decode()


def test_console_tab_does_not_follow_a_link_out_of_the_store(root: Path, outside: Path) -> None:
    _, victim = _runs(root)
    (victim.path / "console.log").symlink_to(outside)
    info = store.open(root).run(victim.run_id)
    lines, error = console_tail(info)
    assert (lines, error) == ([], "RefusedFile: symbolic link out of the store")


def test_links_inside_the_store_are_followed(root: Path) -> None:
    good, victim = _runs(root)
    good.note("shared notes")
    (victim.path / "notes.md").symlink_to(good.path / "notes.md")
    (victim.path / "console.log").symlink_to(Path("..", "..", "ok", good.run_id, "notes.md"))
    info = store.open(root).run(victim.run_id)
    assert "shared notes" in info.notes
    assert "shared notes" in info.console_tail()
    assert info.problems == []


@pytest.mark.parametrize("name", ["params.json", "run.json", "summary"])
def test_listing_does_not_follow_a_link_out_of_the_store(
    root: Path, tmp_path: Path, name: str
) -> None:
    good, victim = _runs(root)
    target = victim.path / name
    copy = tmp_path / "elsewhere" / name
    copy.parent.mkdir()
    target.rename(copy)
    target.symlink_to(copy)
    s = store.open(root)
    frame = s.runs()
    reasons = _reasons(s)
    if name == "run.json":
        assert frame["run_id"].to_list() == [good.run_id]
    elif name == "params.json":
        row = frame.filter(pl.col("run_id") == victim.run_id).row(0, named=True)
        assert row["params"] == {"lr": None}
    else:
        row = frame.filter(pl.col("run_id") == victim.run_id).row(0, named=True)
        assert row["last_step"] is None and row["metrics"]["x"] is None
    assert any(r.endswith("symbolic link out of the store") for r in reasons), reasons


def test_tables_folder_linked_out_of_the_store_is_not_read(root: Path, tmp_path: Path) -> None:
    with store.Run(experiment="t", root=root, **OFF) as run:
        run.log_table("preds", {"a": [1, 2]})
    tables = run.path / "tables"
    tables.rename(tmp_path / "tables")
    tables.symlink_to(tmp_path / "tables")
    info = store.open(root).run(run.run_id)
    assert info.tables() == []
    with pytest.raises(safe_files.RefusedFile, match="out of the store"):
        info.table("preds")


def test_resume_does_not_follow_a_linked_experiment_out_of_the_store(
    root: Path, tmp_path: Path
) -> None:
    with store.Run(experiment="exp", root=root, **OFF) as run:
        run.log({"x": 1.0})
    elsewhere = tmp_path / "elsewhere"
    (root / "exp").rename(elsewhere)
    (root / "exp").symlink_to(elsewhere)
    before = sorted(p.relative_to(elsewhere) for p in elsewhere.rglob("*"))
    with pytest.raises(ValueError, match="no such run"):
        store.Run(run_id=run.run_id, resume=True, root=root, **OFF)
    with pytest.raises(ValueError, match="link out of the store"):
        store.Run(experiment="exp", root=root, **OFF)
    assert sorted(p.relative_to(elsewhere) for p in elsewhere.rglob("*")) == before


def test_comments_and_notes_are_not_written_through_a_link(root: Path, outside: Path) -> None:
    _, victim = _runs(root)
    (victim.path / "comments.jsonl").symlink_to(outside)
    with pytest.raises(OSError, match="symbolic link: not written through it"):
        store.open(root).comment(victim.run_id, "hello")
    assert outside.read_text() == SECRET + "\n"


def test_console_capture_does_not_write_through_a_link(root: Path, outside: Path) -> None:
    with store.Run(experiment="c", root=root, **OFF) as run:
        pass
    (run.path / "console.log").symlink_to(outside)
    with store.Run(run_id=run.run_id, resume=True, root=root, capture_console=True, **OFF):
        print("printed by the resumed run")
    assert outside.read_text() == SECRET + "\n"


# ------------------------------------------------------------------ 19. huge console logs
def _rchar() -> int:
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs /proc/self/io")
def test_console_tail_of_huge_progress_line_reads_a_bounded_window(root: Path) -> None:
    """96 MiB of output without a newline, then 1 MiB of `\\r` progress updates."""
    with store.Run(experiment="c", root=root, **OFF) as run:
        pass
    log = run.path / "console.log"
    with open(log, "wb") as f:
        f.truncate(96 << 20)  # sparse: the test writes 1 MiB, not 97
        f.seek(0, os.SEEK_END)
        f.write(b"".join(b"\rstep %06d/065535" % i for i in range(65_536)))
    info = store.open(root).run(run.run_id)
    before = _rchar()
    tracemalloc.start()
    try:
        tail = info.console_tail(200)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    read = _rchar() - before
    assert tail.splitlines() == [
        "[earlier output not shown: only the last 4 MiB are read]",
        "step 065535/065535",
    ]
    assert read <= safe_files.CAP_CONSOLE_TAIL + 4096
    assert peak < 8 * safe_files.CAP_CONSOLE_TAIL


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs /proc/self/io")
def test_console_tail_of_many_lines_reads_only_their_end(root: Path) -> None:
    with store.Run(experiment="c", root=root, **OFF) as run:
        pass
    with open(run.path / "console.log", "wb") as f:
        f.truncate(64 << 20)
        f.seek(0, os.SEEK_END)
        f.write(b"".join(b"line %d\n" % i for i in range(1000)))
    info = store.open(root).run(run.run_id)
    before = _rchar()
    tail = info.console_tail(3)
    assert _rchar() - before <= (1 << 16) + 4096  # one block, and /proc/self/io itself
    assert tail == "line 997\nline 998\nline 999"


# ------------------------------------------------------------------ 20. times out of range
def _with_times(root: Path, created: str, ended: str) -> tuple[store.Run, store.Run]:
    good, victim = _runs(root)
    meta = json.loads((victim.path / "run.json").read_text())
    meta.update(created=created, ended=ended)
    (victim.path / "run.json").write_text(json.dumps(meta))
    return good, victim


@pytest.mark.parametrize(
    ("created", "ended"),
    [
        ("2026-11-27T01:00:00+00:00", "0001-01-01T00:00:00+14:00"),
        ("9999-12-31T23:59:59-14:00", "2026-11-27T01:00:00+00:00"),
    ],
)
def test_out_of_range_times_show_as_invalid(
    root: Path, created: str, ended: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    good, victim = _with_times(root, created, ended)
    bad = "ended" if ended.startswith("0001") else "created"
    s = store.open(root)
    frame = s.runs()
    row = frame.filter(pl.col("run_id") == victim.run_id).row(0, named=True)
    assert row[bad] is None and row["duration_s"] is None
    assert f"run.json: '{bad}' is not a time in range: field skipped" in _reasons(s)

    text = _show(root, victim.run_id, capsysbinary)
    assert any(line.split() == [bad, "invalid"] for line in text.splitlines()), text
    assert main(["show", victim.run_id, "--root", str(root), "--format", "json"]) == 0
    assert json.loads(capsysbinary.readouterr().out)[bad] is None
    for fmt in ("table", "csv", "json"):
        assert main(["ls", "--root", str(root), "--format", fmt]) == 0
        assert victim.run_id in capsysbinary.readouterr().out.decode()

    info = s.run(victim.run_id)
    shown = io.StringIO()
    Console(file=shown, width=120).print(OverviewPane().describe(info, gather(info)))
    assert any(line.split()[:2] == [bad, "invalid"] for line in shown.getvalue().splitlines())
