"""Min/max downsampling of a series to the pixel columns a chart has.

A terminal chart has a few hundred pixel columns at most; a run can log millions of points.
Averaging or striding would hide spikes (a loss blow-up, a NaN), so each column bucket keeps
its first, last, minimum and maximum point (the "M4" scheme): drawing lines through those
gives the same pixels as drawing every point, and every extreme stays visible. A bucket
that holds a non-finite value also keeps the first one, so gaps stay gaps.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def visible_slice(x: FloatArray, lo: float, hi: float) -> slice:
    """Index range of sorted `x` inside [lo, hi], widened by one point on each side.

    The extra neighbours let a line enter and leave the window instead of starting at the
    first visible point.
    """
    i0 = int(np.searchsorted(x, lo, side="left"))
    i1 = int(np.searchsorted(x, hi, side="right"))
    return slice(max(i0 - 1, 0), min(i1 + 1, len(x)))


def bucket_starts(x: FloatArray, lo: float, hi: float, n_buckets: int) -> IntArray:
    """Index of the first point of each non-empty column bucket of sorted `x`.

    Bucket k holds lo + k*w <= x < lo + (k+1)*w (w = (hi - lo) / n_buckets); points left of
    `lo` form one bucket of their own, and so do points right of `hi` (x == hi belongs to
    the last column).
    """
    span = hi - lo
    edges = np.array([lo])
    if span > 0:
        edges = np.concatenate((edges, lo + span * np.arange(1, n_buckets) / n_buckets))
    cuts = np.searchsorted(x, edges, side="left")
    cuts = np.append(cuts, np.searchsorted(x, hi, side="right"))
    starts = np.unique(np.concatenate(([0], cuts)))
    return starts[starts < len(x)]


def _first_in(candidates: IntArray, starts: IntArray, ends: IntArray) -> IntArray:
    """The first of the sorted `candidates` inside each bucket [start, end], where any."""
    pos = np.searchsorted(candidates, starts, side="left")
    ok = pos < len(candidates)
    found = candidates[pos[ok]]
    return found[found <= ends[ok]]


def minmax_indices(x: FloatArray, y: FloatArray, lo: float, hi: float, n_buckets: int) -> IntArray:
    """Sorted indices of the points to draw for sorted `x` in [lo, hi] on `n_buckets` columns.

    Per bucket: its first and last points, the first argmin and argmax of its finite values,
    and its first non-finite value (a gap marker). Points outside [lo, hi] are not returned
    except the one neighbour on each side. Series short enough to draw whole are returned
    whole.
    """
    n = len(x)
    if n == 0 or n_buckets <= 0:
        return np.zeros(0, dtype=np.intp)
    window = visible_slice(x, lo, hi)
    start, stop = window.start, window.stop
    if stop - start <= 4 * n_buckets + 2:
        return np.arange(start, stop, dtype=np.intp)
    xs = x[start:stop]
    ys = y[start:stop]
    starts = bucket_starts(xs, lo, hi, n_buckets)
    ends = np.append(starts[1:], len(xs)) - 1
    counts = ends - starts + 1

    finite = np.isfinite(ys)
    all_finite = bool(finite.all())
    # Non-finite values must not win a min or max: park them at the far end.
    lo_vals = ys if all_finite else np.where(finite, ys, np.inf)
    hi_vals = ys if all_finite else np.where(finite, ys, -np.inf)
    mins = np.minimum.reduceat(lo_vals, starts)
    maxs = np.maximum.reduceat(hi_vals, starts)
    argmins = _first_in(np.flatnonzero(lo_vals == np.repeat(mins, counts)), starts, ends)
    argmaxs = _first_in(np.flatnonzero(hi_vals == np.repeat(maxs, counts)), starts, ends)
    gaps = np.zeros(0, dtype=np.intp)
    if not all_finite:
        gaps = _first_in(np.flatnonzero(~finite), starts, ends)
    keep = np.concatenate((starts, ends, argmins, argmaxs, gaps))
    out: IntArray = np.unique(keep) + start
    return out


def minmax_downsample(
    x: npt.ArrayLike, y: npt.ArrayLike, lo: float, hi: float, n_buckets: int
) -> tuple[FloatArray, FloatArray]:
    """The points of sorted `x`/`y` to draw on `n_buckets` columns spanning [lo, hi].

    Keeps, for every bucket, its minimum and maximum finite value (so spikes are never
    hidden), its first and last points (so lines between buckets are right) and its first
    non-finite value (so gaps stay gaps).
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    idx = minmax_indices(xa, ya, lo, hi, n_buckets)
    return xa[idx], ya[idx]
