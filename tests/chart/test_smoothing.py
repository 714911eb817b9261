"""TensorBoard's debiased EMA: the vectorised version matches the plain loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmtop.tui.charting.smoothing import ema, ema_reference

values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)
weights = st.one_of(
    st.sampled_from([0.0, 0.6, 0.8, 0.9, 0.95, 0.99, 0.999]),
    st.floats(0.0, 0.999),
)


def assert_matches(got: np.ndarray, want: list[float]) -> None:
    want_a = np.array(want, dtype=float)
    assert got.shape == want_a.shape
    # Gaps stay gaps, in the same places and with the same value (nan, inf or -inf).
    fin = np.isfinite(want_a)
    assert np.array_equal(np.isfinite(got), fin)
    assert np.array_equal(got[~fin], want_a[~fin], equal_nan=True)
    scale = max(1.0, float(np.abs(want_a[fin]).max())) if fin.any() else 1.0
    assert np.allclose(got[fin], want_a[fin], rtol=0, atol=1e-9 * scale)


@settings(max_examples=200, deadline=None)
@given(st.lists(values, max_size=200), weights)
def test_matches_reference_loop(xs: list[float], w: float) -> None:
    assert_matches(ema(xs, w), ema_reference(xs, w))


@pytest.mark.parametrize("w", [0.01, 0.3, 0.9, 0.99])
def test_long_series_match_across_chunks(w: float) -> None:
    """Long enough to cross many internal chunks (or use the short-kernel path)."""
    rng = np.random.default_rng(7)
    xs = rng.normal(3.0, 10.0, 40_000)
    xs[::97] = np.nan
    assert_matches(ema(xs, w), ema_reference(xs.tolist(), w))


def test_exact_values_with_debias() -> None:
    # last: 0.5, 1.25, 2.125; debias 1 - 0.5**n: 0.5, 0.75, 0.875.
    assert ema([1.0, 2.0, 3.0], 0.5).tolist() == pytest.approx([1.0, 1.25 / 0.75, 2.125 / 0.875])
    # A gap passes through and does not count towards n.
    out = ema([1.0, math.nan, 2.0], 0.5)
    assert math.isnan(out[1])
    assert out[[0, 2]].tolist() == pytest.approx([1.0, 1.25 / 0.75])


def test_constant_empty_and_off() -> None:
    assert ema([2.5] * 5, 0.9).tolist() == [2.5] * 5
    assert ema([], 0.9).tolist() == []
    assert ema([1.0, 5.0, 2.0], 0.0).tolist() == [1.0, 5.0, 2.0]
    assert np.isnan(ema([math.nan, math.nan], 0.6)).all()


def test_rejects_weight_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match="smoothing weight"):
        ema([1.0], 1.0)
