"""A large history export is streamed: memory stays far below the size of the data."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.tui.cli import main
from mmtop.tui.cli.commands import export

RUNS, STEPS, KEYS = 6, 10_000, 10  # 600k points
BATCH = 100_000  # points per store read in these tests: one run each


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "mmruns"
    names = [f"k{i}" for i in range(KEYS)]
    for r in range(RUNS):
        with store.Run(experiment="big", name=f"r{r}", root=root) as run:
            for step in range(STEPS):
                run.log({k: step * 0.5 + i for i, k in enumerate(names)}, step=step)
    return root


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_python_memory_is_bounded(
    big: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(export, "BATCH_POINTS", BATCH)
    out = tmp_path / f"history.{fmt}"
    tracemalloc.start()
    try:
        code = main(["export", "--root", str(big), "--history", "-o", str(out)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0
    size = out.stat().st_size
    with out.open("rb") as handle:
        lines = sum(1 for _ in handle)
    assert lines == RUNS * STEPS * KEYS + (1 if fmt == "csv" else 0)
    assert size > 40_000_000
    assert peak < size / 4, f"peak {peak:,} bytes for a {size:,} byte export"


def test_process_memory_stays_below_holding_the_history_once(
    big: Path, tmp_path: Path, python: Callable[..., Any]
) -> None:
    """Peak RSS of a streamed export vs a process that merely holds all points once."""
    # VmHWM, not ru_maxrss: the latter survives execve, so a child forked from a big pytest
    # process would report the parent's peak.
    rss = "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    baseline = python(
        "import polars; from mmtop import store; from mmtop.tui.cli.commands import export; "
        f"st = store.open({str(big)!r}); st.history(st.runs()['run_id'][0]); " + rss
    )
    holding = python(
        "import polars; from mmtop import store; "
        f"st = store.open({str(big)!r}); h = st.history(st.runs()['run_id'].to_list()); "
        f"assert h.height == {RUNS * STEPS * KEYS}; " + rss
    )
    out = tmp_path / "history.csv"
    streaming = python(
        f"from mmtop.tui.cli.commands import export; export.BATCH_POINTS = {BATCH}; "
        "from mmtop.tui.cli import main; "
        f"assert main(['export', '--root', {str(big)!r}, '--history', '-o', {str(out)!r}]) == 0; "
        + rss
    )
    for proc in (baseline, holding, streaming):
        assert proc.returncode == 0, proc.stderr.decode()
    base, hold, stream = (int(p.stdout.split()[-1]) for p in (baseline, holding, streaming))
    assert out.stat().st_size > 40_000_000
    # Holding every point once costs `hold - base`; the export must stay well under that.
    assert stream - base < (hold - base) / 2, (base, hold, stream)
