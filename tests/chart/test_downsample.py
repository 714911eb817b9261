"""Min/max downsampling keeps every extreme and every gap."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mmtop.tui.charting.downsample import minmax_downsample, minmax_indices

values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([np.nan, np.inf, -np.inf]),
)


@st.composite
def series(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Sorted integer x (repeats allowed) on [0, n_buckets * width], y with gaps."""
    n_buckets = draw(st.integers(1, 8))
    width = draw(st.integers(1, 20))
    hi = n_buckets * width
    n = draw(st.integers(0, 120))
    x = np.sort(np.array(draw(st.lists(st.integers(0, hi), min_size=n, max_size=n)), float))
    y = np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=float)
    return x, y, n_buckets, width


def reference_buckets(x: np.ndarray, n_buckets: int, width: int) -> np.ndarray:
    """Column of each point: x // width, with x == hi in the last column (exact on ints)."""
    cols: np.ndarray = np.minimum(x // width, n_buckets - 1).astype(int)
    return cols


@settings(max_examples=150, deadline=None)
@given(series())
def test_keeps_global_and_per_bucket_extremes_and_gaps(
    case: tuple[np.ndarray, np.ndarray, int, int],
) -> None:
    x, y, n_buckets, width = case
    hi = float(n_buckets * width)
    idx = minmax_indices(x, y, 0.0, hi, n_buckets)
    # A subset of the points, in order, each once.
    assert np.all(np.diff(idx) > 0)
    assert len(idx) == 0 or (idx[0] >= 0 and idx[-1] < len(x))
    kept = set(idx.tolist())
    finite = np.isfinite(y)
    if finite.any():
        kx, ky = x[idx], y[idx]
        assert np.nanmax(np.where(np.isfinite(ky), ky, np.nan)) == y[finite].max()
        assert np.nanmin(np.where(np.isfinite(ky), ky, np.nan)) == y[finite].min()
        assert len(kx) == len(idx)
    buckets = reference_buckets(x, n_buckets, width)
    for b in np.unique(buckets):
        members = np.flatnonzero(buckets == b)
        in_bucket = [i for i in members if i in kept]
        fin = members[finite[members]]
        if len(fin):
            kept_vals = [y[i] for i in in_bucket if finite[i]]
            assert max(kept_vals) == y[fin].max()
            assert min(kept_vals) == y[fin].min()
        if not finite[members].all():
            assert any(not finite[i] for i in in_bucket), "a gap in a column must stay a gap"
    # Downsampling only kicks in for long series: at most 5 points per column then.
    if len(x) > 4 * n_buckets + 2:
        assert len(idx) <= 5 * n_buckets


def test_million_points_keep_one_spike_and_one_gap() -> None:
    x = np.arange(1_000_000, dtype=float)
    y = np.sin(x / 1000.0)
    y[654_321] = 50.0
    y[123_456] = np.nan
    xs, ys = minmax_downsample(x, y, 0.0, 999_999.0, 160)
    assert len(xs) <= 5 * 160
    assert ys[np.isfinite(ys)].max() == 50.0
    assert xs[np.flatnonzero(ys == 50.0)[0]] == 654_321.0
    assert np.isnan(ys).sum() == 1
    assert xs[np.isnan(ys)][0] == 123_456.0
    assert xs[0] == 0.0 and xs[-1] == 999_999.0


def test_window_keeps_one_neighbour_each_side() -> None:
    x = np.arange(0.0, 100.0)
    y = x * 2
    xs, ys = minmax_downsample(x, y, 10.5, 20.5, 50)
    assert xs.tolist() == list(np.arange(10.0, 22.0))
    assert ys.tolist() == [2 * v for v in range(10, 22)]


def test_short_series_and_empty_input_are_returned_whole() -> None:
    assert minmax_indices(np.zeros(0), np.zeros(0), 0.0, 1.0, 10).tolist() == []
    x = np.array([1.0, 2.0, 3.0])
    assert minmax_indices(x, np.array([1.0, np.nan, 2.0]), 0.0, 4.0, 1).tolist() == [0, 1, 2]
    assert minmax_indices(x, x, 0.0, 4.0, 0).tolist() == []


def test_all_points_on_one_x_collapse_to_first_last_min_max() -> None:
    x = np.full(100, 5.0)
    y = np.arange(100.0)
    y[40] = -1.0
    y[60] = 1000.0
    xs, ys = minmax_downsample(x, y, 5.0, 5.0, 4)
    assert ys.tolist() == [0.0, -1.0, 1000.0, 99.0]
