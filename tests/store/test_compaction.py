"""Compaction of small Parquet parts: few files in the end, and a concurrent reader never sees
a point twice nor loses one it saw before."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from mmtop import store

KEYS = ("a", "b")


def _points(df: pl.DataFrame) -> list[tuple[str, int, float]]:
    return list(df.select("key", "step", "value").iter_rows())


def test_many_small_flushes_end_in_few_files(root: Path, wait_until: Callable[..., Any]) -> None:
    with store.Run(root=root, flush_every=0.001) as run:
        parts = run.path / "metrics"
        seen_single: set[str] = set()
        step = 0

        def piled_up() -> bool:
            nonlocal step
            run.log({"a": step * 1.5, "b": -step}, step=step)
            step += 1
            seen_single.update(p.name for p in parts.glob("*.parquet") if p.name.count("-") == 1)
            return len(seen_single) > 20

        # The background thread flushes on its own: keep logging until it has written > 16
        # parts (more than one compaction's worth).
        wait_until(piled_up, timeout=30, what="more than 20 flushed parts")
    files = sorted(p.name for p in parts.iterdir())
    assert len(files) <= 2, files
    assert all(name.endswith((".parquet", ".sha256")) for name in files)
    df = store.open(root).history(run.run_id)
    want = sorted(
        [("a", i, i * 1.5) for i in range(step)] + [("b", i, float(-i)) for i in range(step)]
    )
    assert sorted(_points(df)) == want


def test_reader_during_compaction_never_sees_duplicates_or_losses(root: Path) -> None:
    run = store.Run(root=root, flush_every=600)
    failures: list[str] = []
    done = threading.Event()
    reads = 0

    def reader() -> None:
        nonlocal reads
        seen: set[tuple[str, int, float]] = set()
        s = store.open(root)
        while not done.is_set() or reads < 3:
            df = s.history(run.run_id)
            now = _points(df)
            current = set(now)
            if len(current) != len(now):
                failures.append(f"read {reads}: {len(now) - len(current)} duplicate points")
            if not seen <= current:
                failures.append(f"read {reads}: lost {len(seen - current)} points seen before")
            if s.problems():
                failures.append(f"read {reads}: problems {s.problems()}")
            seen = current
            reads += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        step = 0
        for _ in range(60):  # 60 parts: three compactions while the reader reads
            for _ in range(50):
                run.log({"a": float(step), "b": step / 2}, step=step)
                step += 1
            run.flush()
    finally:
        run.finish()
        done.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert failures == []
    assert reads >= 3
    df = store.open(root).history(run.run_id)
    assert df.height == 2 * step
    assert sorted(_points(df)) == sorted(
        [("a", i, float(i)) for i in range(step)] + [("b", i, i / 2) for i in range(step)]
    )
    assert len(list((run.path / "metrics").glob("*.parquet"))) <= 2


def test_every_intermediate_state_of_compaction_reads_each_point_once(root: Path) -> None:
    """The folder states a reader can list while compaction runs (merged part written, old
    parts partly deleted, an older merged part still there) all read as the same points."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from mmtop.store.parts import write_part

    flushes, per_flush = 20, 5
    with store.Run(root=root, flush_every=600) as run:
        for f in range(flushes):
            for i in range(f * per_flush, (f + 1) * per_flush):
                run.log({"a": float(i), "b": i / 4}, step=i)
            run.flush()
    folder = run.path / "metrics"
    [final] = list(folder.glob("*.parquet"))
    writer = run.writer_id
    assert final.name == f"{writer}-000001-{flushes:06d}.parquet"
    table = pq.read_table(final)
    expected = sorted(_points(store.open(root).history(run.run_id)))
    assert len(expected) == 2 * flushes * per_flush

    def rows(first_step: int, last_step: int) -> Any:
        steps = table.column("step")
        return table.filter(
            pc.and_(pc.greater_equal(steps, first_step), pc.less_equal(steps, last_step))
        )

    singles = {seq: folder / f"{writer}-{seq:06d}.parquet" for seq in range(1, flushes + 1)}
    middle = folder / f"{writer}-000001-000016.parquet"

    def lay_out(files: set[Path]) -> None:
        for path in [*singles.values(), middle, final]:
            if path in files and not path.exists():
                if path == final:
                    write_part(path, table)
                elif path == middle:
                    write_part(path, rows(0, 16 * per_flush - 1))
                else:
                    seq = int(path.stem.split("-")[1])
                    write_part(path, rows((seq - 1) * per_flush, seq * per_flush - 1))
            elif path not in files and path.exists():
                path.unlink()

    states = {
        "before any compaction": set(singles.values()),
        "first merged part written, no single deleted": {middle, *singles.values()},
        "first compaction half-way through deleting": {
            middle,
            *(singles[s] for s in range(9, flushes + 1)),
        },
        "after the first compaction": {middle, *(singles[s] for s in range(17, flushes + 1))},
        "second merged part written beside the first": {
            final,
            middle,
            *(singles[s] for s in range(17, flushes + 1)),
        },
        "second compaction half-way through deleting": {final, singles[19], singles[20]},
        "everything at once": {final, middle, *singles.values()},
        "done": {final},
    }
    for state, files in states.items():
        lay_out(files)
        s = store.open(root)
        got = sorted(_points(s.history(run.run_id)))
        assert got == expected, state
        assert s.problems() == [], state


def test_reader_with_a_damaged_part_never_loses_points_during_compaction(root: Path) -> None:
    """A damaged part makes the reader read parts one by one; parts compacted away meanwhile
    must make it list again, not silently drop their points."""
    with store.Run(root=root, run_id="mixed", flush_every=600) as old:
        old.log({"old": 1.0})
    [damaged] = list((old.path / "metrics").glob("*.parquet"))
    damaged.write_bytes(b"PAR1 not really parquet")
    run = store.Run(root=root, run_id="mixed", resume=True, flush_every=600)
    failures: list[str] = []
    done = threading.Event()
    reads = 0

    def reader() -> None:
        nonlocal reads
        seen: set[tuple[str, int, float]] = set()
        s = store.open(root)
        while not done.is_set() or reads < 3:
            now = _points(s.history("mixed"))
            current = set(now)
            if len(current) != len(now):
                failures.append(f"read {reads}: duplicates")
            if not seen <= current:
                failures.append(f"read {reads}: lost {len(seen - current)} points seen before")
            seen = current
            reads += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        step = 0
        for _ in range(64):  # four compactions
            for _ in range(200):
                run.log({"a": float(step)})
                step += 1
            run.flush()
    finally:
        run.finish()
        done.set()
        thread.join(timeout=60)
    assert failures == []
    s = store.open(root)
    # The resumed writer goes on after the damaged part's step 0.
    assert sorted(_points(s.history("mixed"))) == [("a", i + 1, float(i)) for i in range(step)]
    assert [p.path for p in s.problems()] == [str(damaged)]
