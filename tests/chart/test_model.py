"""ChartState: the pure view logic (ranges, log y, robust y, modes, zoom, cursor)."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from mmtop.tui.charting.model import PALETTE, ChartState, Series, palette_colors

NAN = math.nan


def state_of(*series: Series) -> ChartState:
    return ChartState().with_series(series)


def test_series_accepts_lists_and_sorts_by_step() -> None:
    s = Series(
        "a", [3, 1, 2], [30.0, 10.0, 20.0], times=[103.0, 101.0, 102.0], band=([0, 1, 2], [5, 6, 7])
    )
    assert s.steps.tolist() == [1.0, 2.0, 3.0]
    assert s.values.tolist() == [10.0, 20.0, 30.0]
    assert s.times is not None and s.times.tolist() == [101.0, 102.0, 103.0]
    assert s.band is not None and s.band[0].tolist() == [1.0, 2.0, 0.0]
    with pytest.raises(ValueError, match="values has 2 points but steps has 3"):
        Series("b", [1, 2, 3], [1.0, 2.0])


def test_log_y_drops_non_positive_values_as_gaps() -> None:
    s = Series("loss", [0, 1, 2, 3, 4], [100.0, 0.0, -5.0, 10.0, 1.0])
    st = state_of(s).toggled_log()
    assert np.array_equal(st.visible(s)[1], [2.0, NAN, NAN, 1.0, 0.0], equal_nan=True)
    assert st.y_range() == (0.0, 2.0)  # log10 of 1 .. 100
    only_bad = state_of(Series("x", [0, 1], [0.0, -1.0])).toggled_log()
    assert only_bad.y_range() == (0.0, 1.0)  # nothing drawable: a default range, no crash


def test_nan_and_inf_are_ignored_by_ranges() -> None:
    st = state_of(Series("a", [0, 1, 2, 3], [1.0, NAN, math.inf, 3.0]))
    assert st.y_range() == (1.0, 3.0)


def test_robust_y_uses_1st_to_99th_percentile() -> None:
    values = np.arange(101.0)
    values[100] = 1e9  # one wild spike
    st = state_of(Series("a", np.arange(101), values))
    assert st.y_range() == (0.0, 1e9)
    assert st.toggled_robust().y_range() == (1.0, 99.0)


def test_empty_single_point_and_constant_series_have_sensible_ranges() -> None:
    empty = ChartState()
    assert (empty.x_range(), empty.y_range(), empty.readouts()) == ((0.0, 1.0), (0.0, 1.0), [])
    single = state_of(Series("a", [5], [3.0]))
    assert single.x_range() == (4.0, 6.0)
    assert single.y_range() == pytest.approx((2.7, 3.3))
    assert single.readouts()[0].x == 5.0 and single.readouts()[0].value == 3.0
    zero = state_of(Series("z", [1, 2], [0.0, 0.0]))
    assert zero.y_range() == (-1.0, 1.0)
    assert zero.toggled_log().y_range() == (0.0, 1.0)
    const_log = state_of(Series("c", [1, 2], [100.0, 100.0])).toggled_log()
    assert const_log.y_range() == (1.5, 2.5)


def test_band_widens_the_range_unless_ignoring_outliers() -> None:
    s = Series("g", [0, 1, 2], [1.0, 2.0, 3.0], band=([0.5, 1.0, 2.0], [1.5, 3.0, 5.0]))
    assert state_of(s).y_range() == (0.5, 5.0)


def test_x_modes_cycle_and_need_times() -> None:
    with_times = Series("a", [0, 10, 20], [1.0, 2.0, 3.0], times=[1000.0, 1060.0, 1180.0])
    st = state_of(with_times)
    assert [st.x_mode, (st := st.next_x_mode()).x_mode] == ["step", "relative"]
    assert st.x_range() == (0.0, 180.0)
    st = st.next_x_mode()
    assert (st.x_mode, st.x_range()) == ("wall", (1000.0, 1180.0))
    assert st.next_x_mode().x_mode == "step"
    no_times = state_of(Series("b", [0, 1], [1.0, 2.0]))
    assert no_times.next_x_mode().x_mode == "step"
    # Data without times arriving while in a time mode falls back to steps.
    assert st.with_series([Series("b", [0, 1], [1.0, 2.0])]).x_mode == "step"


def test_relative_time_is_per_series_and_skips_missing_times() -> None:
    a = Series("a", [0, 1, 2], [1.0, 2.0, 3.0], times=[500.0, NAN, 530.0])
    x, idx = a.x("relative")
    assert x.tolist() == [0.0, 30.0]
    assert idx is not None and idx.tolist() == [0, 2]
    assert a.y("relative", 0.0, False).tolist() == [1.0, 3.0]


def test_smoothing_levels_step_up_and_down() -> None:
    st = ChartState()
    seen = []
    for _ in range(7):
        st = st.smoother()
        seen.append(st.smoothing)
    assert seen == [0.6, 0.8, 0.9, 0.95, 0.99, 0.99, 0.99]
    assert st.smoother(-1).smoother(-1).smoothing == 0.9
    assert ChartState(smoothing=0.6).smoother(-1).smoothing == 0.0
    assert ChartState().smoother(-1).smoothing == 0.0


def test_zoom_pan_and_cursor() -> None:
    st = state_of(Series("a", np.arange(101), np.arange(101.0)))
    zoomed = st.zoomed(0.5)  # anchored at the newest point while following it
    assert zoomed.window == (50.0, 100.0)
    panned = zoomed.panned(-1)
    assert panned.window == (37.5, 87.5)
    assert panned.panned(-4).window == (0.0, 50.0)  # stops at the data
    assert panned.zoomed(2.0).window is None  # showing everything again
    assert st.panned(1) == st  # nothing to pan when unzoomed

    moved = st.cursor_moved(-10, 50)  # 10 cells of 2 steps each from the right edge
    assert moved.cursor == 80.0
    assert [r.value for r in moved.readouts()] == [80.0]
    assert moved.zoomed(0.5).window == (40.0, 90.0)  # the cursor stays 80% across
    assert moved.cursor_moved(100, 50).cursor is None  # back to following the newest
    assert moved.cursor_moved(-1000, 50).cursor == 0.0


def test_readouts_pick_the_nearest_point_and_show_smoothing() -> None:
    a = Series("a", [0, 10, 20], [1.0, 2.0, 3.0])
    b = Series("b", [0, 4], [5.0, 7.0])
    st = state_of(a, b).cursor_moved(-3, 4)  # cursor at x = 5
    assert st.cursor == 5.0
    got = [(r.x, r.value, r.smoothed) for r in st.readouts()]
    assert got == [(0.0, 1.0, None), (4.0, 7.0, None)]
    smooth = st.smoother()
    r = smooth.readouts()[1]
    pair: tuple[object, object] = (r.value, r.smoothed)
    assert pair == (7.0, pytest.approx((0.4 * 5 * 0.6 + 0.4 * 7) / (1 - 0.36)))


def test_palette_colours_are_stable_and_distinct() -> None:
    names = ["run-a", "run-b", "run-c"]
    assert palette_colors(names) == palette_colors(list(reversed(names)))[::-1]
    slot = {n: zlib.crc32(n.encode()) % len(PALETTE) for n in names}
    assert palette_colors(["run-a"]) == [PALETTE[slot["run-a"]]]
    # Two names hashing to one slot still get two colours.
    clash = [f"s{i}" for i in range(40)]
    first = next(
        (a, b) for a in clash for b in clash
        if a < b and zlib.crc32(a.encode()) % 10 == zlib.crc32(b.encode()) % 10
    )  # fmt: skip
    colors = palette_colors(list(first))
    assert colors[0] == PALETTE[zlib.crc32(first[0].encode()) % 10]
    assert colors[0] != colors[1]


def test_zooming_back_out_shows_everything_despite_rounding() -> None:
    st = state_of(Series("a", np.arange(101), np.arange(101.0))).cursor_moved(-1, 76)
    assert st.zoomed(0.5).panned(-1).panned(2).zoomed(2.0).window is None
