"""Chart budget: a 1M-point series draws (downsample + rasterise one frame) in <= 150 ms.

Run: python benchmarks/bench_chart.py [--points N] [--repeat R]

Prints the median time of:
- draw: min/max downsampling to the pixel columns plus braille rasterising, per terminal size;
- frame, first: a whole chart layout (y range, ticks, legend, read-out) for a series just
  handed to the chart, so nothing is cached yet (what a user waits for on opening a chart);
- frame, again: the same layout redrawn (cursor move, resize), with per-view data cached;
- frame, smoothed first: the first frame after turning smoothing on (the EMA is computed).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from mmtop.tui.charting.canvas import BrailleCanvas
from mmtop.tui.charting.downsample import minmax_indices
from mmtop.tui.charting.layout import build_frame
from mmtop.tui.charting.model import ChartState, Series

BUDGET_MS = 150.0


def make_series(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    steps = np.arange(n, dtype=np.int64)
    values = 2.0 * np.exp(-steps / (n / 4)) + rng.normal(0.0, 0.05, n)
    values[rng.integers(0, n, 20)] = 50.0  # spikes that must stay visible
    values[rng.integers(0, n, 20)] = np.nan  # gaps
    times = 1.795e9 + steps * 0.1
    return steps, values, times


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm up numpy's code paths; the cold-cache cases build new objects inside fn
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    steps, values, times = make_series(args.points)
    x = steps.astype(np.float64)
    worst = 0.0
    print(f"chart of one {args.points:,}-point series (median of {args.repeat}):")

    for cols, rows in ((80, 24), (200, 60)):
        plot_w, plot_h = cols - 6, rows - 6

        def draw(plot_w: int = plot_w, plot_h: int = plot_h) -> None:
            canvas = BrailleCanvas(plot_w, plot_h)
            idx = minmax_indices(x, values, 0.0, float(x[-1]), canvas.px_width)
            px = (x[idx] - x[0]) / (x[-1] - x[0]) * (canvas.px_width - 1)
            py = (2.5 - values[idx]) / 2.5 * (canvas.px_height - 1)
            canvas.plot_line(px, py, "line")
            canvas.rows()

        ms = median_ms(draw, args.repeat)
        worst = max(worst, ms)
        print(f"  draw (downsample + rasterise) {cols}x{rows}: {ms:7.1f} ms")

    def first_frame() -> None:
        state = ChartState().with_series([Series("loss", steps, values, times=times)])
        build_frame(state, 80, 24, "loss")

    ms = median_ms(first_frame, args.repeat)
    worst = max(worst, ms)
    print(f"  frame, first (80x24, nothing cached):   {ms:7.1f} ms")

    state = ChartState().with_series([Series("loss", steps, values, times=times)])
    ms = median_ms(lambda: build_frame(state, 80, 24, "loss"), args.repeat)
    print(f"  frame, again (80x24, cached view data): {ms:7.1f} ms")

    def smoothed_first() -> None:
        smooth = ChartState(smoothing=0.6).with_series([Series("loss", steps, values)])
        build_frame(smooth, 80, 24, "loss")

    ms = median_ms(smoothed_first, args.repeat)
    print(f"  frame, smoothed first (EMA + raw + smoothed lines): {ms:7.1f} ms")
    verdict = "within" if worst <= BUDGET_MS else "OVER"
    print(f"budget {BUDGET_MS:.0f} ms for draw and first frame: worst {worst:.1f} ms, {verdict}")
    return 0 if worst <= BUDGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
