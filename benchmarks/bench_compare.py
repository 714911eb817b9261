"""The compare screen over 50 runs: time to first paint, and to the keys that redraw most.

Generates RUNS runs once with `store.Run` (10 metric keys x STEPS steps each, env captured,
params differing by lr and seed), then, in a headless app of 120 x 40 cells, pushes
`CompareScreen(store.open(root), ids)` and reports the time until

- the screen is up (skeleton painted, "loading…"),
- the params/metrics/env tables are painted (runs read in the worker),
- the first page of metric charts and the system charts have their series (histories of
  the page's keys read and downsampled in the grids' workers; the tab is not shown yet),

then the time of a few keystrokes: switching to the charts tab, turning a page of charts
(4 charts x RUNS series), grouping by every param but seeds (curves computed in a worker),
switching the baseline. Each figure is the median of `--repeat` sessions.

    python benchmarks/bench_compare.py [--runs 50] [--steps 2000] [--repeat 5] [--dir PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot

from mmtop import store
from mmtop.tui.grouping import ALL_BUT_SEEDS
from mmtop.tui.screens.compare import CompareScreen
from mmtop.tui.widgets.compare_charts import ChartsGrid

SIZE = (120, 40)


def generate(root: Path, runs: int, steps: int) -> list[str]:
    ids = []
    for i in range(runs):
        params = {
            "lr": [0.1, 0.03, 0.01, 0.003, 0.001][i % 5],
            "seed": i // 5,
            "model": {"kind": "resnet", "depth": 18, "dropout": 0.1},
            "optimizer": {"name": "sgd", "momentum": 0.9},
        }
        with store.Run(
            experiment="sweep",
            name=f"lr{params['lr']}-s{i // 5}",
            params=params,
            root=root,
            capture_code=False,
            capture_system=False,
        ) as run:
            for step in range(steps):
                run.log(
                    {f"m{j}/loss": (j + 1) / (step + 1) + 0.001 * i for j in range(10)}, step=step
                )
        ids.append(run.run_id)
    return ids


class Host(App[None]):
    """An empty app the benchmark pushes the compare screen onto. Animations are off: Pilot
    waits for them to end, so the tab underline's slide would count in every tab switch
    while a user's keys are not held up by it."""

    def __init__(self) -> None:
        super().__init__()
        self.animation_level = "none"


class TimedCompare(CompareScreen):
    """Records when each stage is on screen: `call_after_refresh` runs after the next paint.

    Textual calls the handlers of every class in the MRO, so these only add a mark; the
    screen's own handlers run right after them, before the refresh.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.t0 = time.perf_counter()
        self.painted: dict[str, float] = {}

    def _mark(self, stage: str) -> None:
        def done() -> None:
            self.painted.setdefault(stage, time.perf_counter() - self.t0)

        self.call_after_refresh(done)

    def on_mount(self) -> None:
        self._mark("skeleton painted")

    def on_compare_runs_loaded(self, _: Any) -> None:
        self._mark("tables painted")


async def until(
    pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 60.0, pause: bool = True
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await pilot.pause(0.002)
    if pause:
        await pilot.pause()  # one more refresh: the change is painted


async def session(root: Path, ids: list[str]) -> dict[str, float]:
    app = Host()
    out: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = TimedCompare(store.open(root), ids)
        await app.push_screen(screen)
        await until(pilot, lambda: screen.charts_ready, pause=False)
        charts = time.perf_counter() - screen.t0
        await until(pilot, lambda: len(screen.painted) == 2)
        out.update(screen.painted)
        out["first chart pages read"] = charts
        grid = screen.query_one("#metric-charts", ChartsGrid)

        t = time.perf_counter()
        await pilot.press("3")
        await until(pilot, lambda: grid.charts[0].size.width > 0)
        out["key: charts tab"] = time.perf_counter() - t
        t = time.perf_counter()
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: grid.page == 1)
        out["key: next chart page"] = time.perf_counter() - t
        t = time.perf_counter()
        screen.set_grouping(ALL_BUT_SEEDS)
        await until(pilot, lambda: screen.charts_ready)
        out["group all but seeds"] = time.perf_counter() - t
        t = time.perf_counter()
        await pilot.press("2", "b")
        out["keys: metrics tab + baseline"] = time.perf_counter() - t
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="keep the generated store here")
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="mmtop-bench-compare-"))
    root = base / f"runs{args.runs}-steps{args.steps}"
    t = time.perf_counter()
    if root.exists() and args.dir is not None:
        ids = store.open(root).runs().sort("created")["run_id"].to_list()
    else:
        ids = generate(root, args.runs, args.steps)
        print(
            f"generated {args.runs} runs x 10 keys x {args.steps} steps in "
            f"{time.perf_counter() - t:.1f}s under {root}"
        )
    results: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        for name, seconds in asyncio.run(session(root, ids)).items():
            results.setdefault(name, []).append(seconds)
    print(f"compare screen, {len(ids)} runs, {SIZE[0]}x{SIZE[1]}, median of {args.repeat}:")
    for name, values in results.items():
        print(
            f"  {name:<30} {statistics.median(values) * 1000:8.1f} ms"
            f"   (min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"
        )
    if args.dir is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
