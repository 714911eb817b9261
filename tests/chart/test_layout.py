"""Whole-chart layout as text: axes, ticks, gaps, legend and read-out, at any size."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
from rich.cells import cell_len

from mmtop.tui.charting.layout import build_frame
from mmtop.tui.charting.model import ChartState, Series

NAN = math.nan


def texts(state: ChartState, width: int = 60, height: int = 16, title: str = "") -> list[str]:
    return ["".join(t for t, _ in line) for line in build_frame(state, width, height, title).lines]


def plot_columns(state: ChartState, width: int, height: int) -> list[str]:
    """The plot area's cell columns, top to bottom, as strings (title line skipped)."""
    frame = build_frame(state, width, height)
    rows = []
    for line in frame.lines[1 : 1 + frame.plot_height]:
        rows.append("".join(t for t, _ in line[2:]))  # after the y label and the axis
    return ["".join(row[c] for row in rows) for c in range(frame.plot_width)]


def test_axes_ticks_legend_and_readout() -> None:
    s = Series("loss", np.arange(0, 1001), np.linspace(1.0, 0.0, 1001))
    lines = texts(ChartState().with_series([s]), 60, 16, "val/loss")
    assert lines[0].startswith("val/loss")
    assert lines[0].endswith("x: step · smooth off")
    assert lines[1].startswith("  1┤")
    assert lines[11].startswith("  0┤")
    assert lines[12].startswith("   └┬")
    assert lines[13].split() == ["0", "200", "400", "600", "800", "1k"]
    assert lines[14] == "━ loss"
    assert lines[15] == "latest step 1000 │ loss 0"


def test_every_size_fits_and_small_sizes_drop_parts() -> None:
    s = Series(
        "a-very-long-series-name-" * 3, [0, 1, 2], [1.0, NAN, 3.0], band=([0, 0, 0], [4, 4, 4])
    )
    state = ChartState().with_series([s, Series("b", [0, 5], [2.0, 2.0])]).toggled_log()
    for width in (0, 1, 3, 4, 10, 33, 80):
        for height in (0, 1, 3, 4, 5, 7, 8, 20):
            frame = build_frame(state, width, height, "title\x1b[2J")
            assert len(frame.lines) == height
            for line in frame.lines:
                assert sum(cell_len(t) for t, _ in line) <= width
    assert len(texts(state, 40, 4)) == 4  # plot and x axis only


def test_nan_gap_leaves_blank_columns() -> None:
    values = np.ones(100)
    values[40:60] = NAN
    cols = plot_columns(ChartState().with_series([Series("a", np.arange(100), values)]), 60, 12)
    width = len(cols)
    at = [int(x / 99 * (2 * width - 1)) // 2 for x in (10, 50, 90)]
    assert cols[at[0]].strip() and cols[at[2]].strip()
    assert cols[at[1]].strip() == ""


def test_log_y_with_non_positive_values_draws_the_rest() -> None:
    s = Series("a", [0, 1, 2, 3], [10.0, -1.0, 0.0, 1000.0])
    lines = texts(ChartState().with_series([s]).toggled_log(), 40, 12)
    labels = [line.split("┤")[0].strip() for line in lines if "┤" in line]
    assert labels == ["1k", "100", "10"]
    assert lines[-1] == "latest step 3 │ a 1k"


def test_empty_chart_says_no_data() -> None:
    lines = texts(ChartState(), 40, 12)
    assert any("no data" in line for line in lines)
    assert lines[-1] == ""  # nothing to read out


def test_relative_and_wall_time_axes() -> None:
    t0 = datetime(2026, 11, 27, 14, 0).timestamp()  # local time, as the axis shows
    s = Series("a", np.arange(0, 121), np.arange(0, 121.0), times=t0 + np.arange(0, 121) * 60.0)
    rel = ChartState().with_series([s]).next_x_mode()
    lines = texts(rel, 60, 12)
    assert lines[0].endswith("x: relative time · smooth off")
    assert lines[-3].split() == ["0", "30m", "1h", "90m", "2h"]
    assert lines[-1] == "latest time 2h │ a 120"
    wall = rel.next_x_mode()
    lines = texts(wall, 60, 12)
    assert lines[-3].split() == ["14:00", "14:30", "15:00", "15:30", "16:00"]
    assert lines[-1] == "latest at 2026-11-27 16:00:00 │ a 120"


def test_untrusted_names_are_cleaned_and_cut_to_fit() -> None:
    evil = Series("\x1b]52;c;ZXZpbA==\x07bad\x1b[31m\nname", [0, 1], [1.0, 2.0])
    lines = texts(ChartState().with_series([evil]), 40, 10)
    assert lines[-2] == "━ bad name"
    assert "\x1b" not in "".join(lines)
    many = [Series(f"series-{i}", [0, 1], [i, i + 1.0]) for i in range(12)]
    legend = texts(ChartState().with_series(many), 40, 10)[-2]
    assert legend.startswith("━ series-0  ━ series-1  ━ series-2")
    assert legend.endswith("+9")


def test_cursor_column_and_smoothed_readout() -> None:
    s = Series("a", np.arange(0, 101), np.arange(0, 101.0))
    st = ChartState().with_series([s]).cursor_moved(-10, 50).smoother()
    lines = texts(st, 56, 12)  # 2-cell labels + axis: a 53-cell plot
    assert any("┊" in line for line in lines)
    assert lines[-1] == "▸ step 80 │ a 78.5 (80)"
