"""The pure state of a chart: its series and every view setting, with no Textual in sight.

`ChartState` is immutable; each user action returns a new state (`state.smoother()`,
`state.zoomed(0.5)`, ...), so the widget keeps one reference and tests need no app. The
data each view needs (x for the axis mode, smoothed and log-transformed y) is computed
once per series and view and cached on the `Series`.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from mmtop.tui.charting.smoothing import ema

FloatArray = npt.NDArray[np.float64]
XMode = Literal["step", "relative", "wall"]
X_MODES: tuple[XMode, ...] = ("step", "relative", "wall")
SMOOTHING_LEVELS = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)
# Distinct colours readable on dark and light backgrounds; a series' colour is chosen by a
# hash of its name, so a run keeps its colour across screens and restarts.
PALETTE = (
    "#4c9be8", "#f28e2b", "#e15759", "#59c2b8", "#6cbf4f",
    "#edc948", "#b07aa1", "#ff9da7", "#b5906e", "#9aa8b8",
)  # fmt: skip
ROBUST_PERCENTILES = (1.0, 99.0)
_PERCENTILE_SAMPLE = 200_000  # above this many visible values, percentiles use an even sample


def _array(values: npt.ArrayLike, name: str) -> FloatArray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    return a


class Series:
    """One line: y `values` over `steps`, optionally with wall `times` (float seconds since
    the epoch), a colour (any Rich colour; default from the palette) and a `band`
    (lower, upper) drawn as a shaded area, e.g. mean +- std over seeds.

    Points are sorted by step on construction (stable), as smoothing follows step order.
    """

    __slots__ = ("name", "steps", "values", "times", "color", "band", "_cache")

    def __init__(
        self,
        name: str,
        steps: npt.ArrayLike,
        values: npt.ArrayLike,
        times: npt.ArrayLike | None = None,
        color: str | None = None,
        band: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    ) -> None:
        s = _array(steps, "steps")
        v = _array(values, "values")
        t = None if times is None else _array(times, "times")
        b = None if band is None else (_array(band[0], "band"), _array(band[1], "band"))
        for label, other in (("values", v), ("times", t), *(("band", x) for x in b or ())):
            if other is not None and len(other) != len(s):
                raise ValueError(f"{label} has {len(other)} points but steps has {len(s)}")
        if len(s) > 1 and not bool(np.all(s[1:] >= s[:-1])):
            order = np.argsort(s, kind="stable")
            s, v = s[order], v[order]
            t = None if t is None else t[order]
            b = None if b is None else (b[0][order], b[1][order])
        self.name = name
        self.steps = s
        self.values = v
        self.times = t
        self.color = color
        self.band = b
        self._cache: dict[tuple[object, ...], object] = {}

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"Series({self.name!r}, {len(self)} points)"

    def x(self, mode: XMode) -> tuple[FloatArray, npt.NDArray[np.intp] | None]:
        """Sorted finite x for an axis mode, and the point indices it came from (None when
        it is all points in order). Empty when the mode needs times the series lacks.
        """
        key = ("x", mode)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._compute_x(mode)
            self._cache[key] = hit
        return hit  # type: ignore[return-value]

    def _compute_x(self, mode: XMode) -> tuple[FloatArray, npt.NDArray[np.intp] | None]:
        if mode == "step":
            base = self.steps
        elif self.times is None:
            return np.zeros(0), np.zeros(0, dtype=np.intp)
        else:
            base = self.times
        ok = np.isfinite(base)
        idx: npt.NDArray[np.intp] | None = None
        if not ok.all():
            idx = np.flatnonzero(ok)
            base = base[idx]
        if len(base) > 1 and not bool(np.all(base[1:] >= base[:-1])):
            order = np.argsort(base, kind="stable")
            idx = order if idx is None else idx[order]
            base = base[order]
        if mode == "relative" and len(base):
            base = base - base[0]
        return base, idx

    def y(self, mode: XMode, smoothing: float, log_y: bool, which: str = "values") -> FloatArray:
        """y for the view, aligned with `x(mode)`: `which` is "values", "smoothed", "lower"
        or "upper" (the band); log_y gives log10, with non-positive values as NaN gaps.
        """
        key = ("y", mode, smoothing, log_y, which)
        hit = self._cache.get(key)
        if hit is None:
            if which == "smoothed":
                raw = self._smoothed(smoothing)
            elif which in ("lower", "upper"):
                if self.band is None:
                    raise ValueError(f"series {self.name!r} has no band")
                raw = self.band[0 if which == "lower" else 1]
            else:
                raw = self.values
            _, idx = self.x(mode)
            out = raw if idx is None else raw[idx]
            if log_y:
                with np.errstate(divide="ignore", invalid="ignore"):
                    out = np.where(out > 0, np.log10(np.where(out > 0, out, 1.0)), np.nan)
            if len(self._cache) > 24:  # views change rarely; bound memory on long sessions
                self._cache.clear()
            self._cache[key] = hit = out
        return hit  # type: ignore[return-value]

    def _smoothed(self, weight: float) -> FloatArray:
        key = ("ema", weight)
        hit = self._cache.get(key)
        if hit is None:
            self._cache[key] = hit = ema(self.values, weight)
        return hit  # type: ignore[return-value]


def palette_colors(names: Sequence[str]) -> list[str]:
    """A palette colour per name: by a stable hash of the name, moving to the next free
    colour on a clash so a chart never shows two series alike (while the palette lasts).
    Clashes are settled in sorted-name order, so the result depends only on the names.
    """
    taken: dict[int, str] = {}
    chosen: dict[str, str] = {}
    for name in sorted(set(names)):
        slot = zlib.crc32(name.encode("utf-8", "surrogatepass")) % len(PALETTE)
        if len(taken) < len(PALETTE):
            while slot in taken:
                slot = (slot + 1) % len(PALETTE)
        taken[slot] = name
        chosen[name] = PALETTE[slot]
    return [chosen[n] for n in names]


@dataclass(frozen=True)
class Readout:
    """The value of one series at the cursor: the nearest point in x."""

    index: int  # position in ChartState.series
    x: float | None
    value: float | None  # raw value (None: no point)
    smoothed: float | None  # when smoothing is on


@dataclass(frozen=True)
class ChartState:
    """Everything a chart shows. `cursor` is an x in data units, or None to follow the newest
    point; `window` is the visible x range, or None for all data (and then it grows live).
    """

    series: tuple[Series, ...] = ()
    x_mode: XMode = "step"
    smoothing: float = 0.0
    log_y: bool = False
    robust_y: bool = False
    cursor: float | None = None
    window: tuple[float, float] | None = None

    # --- actions (each returns a new state) ---------------------------------------------

    def with_series(self, series: Iterable[Series]) -> ChartState:
        """New data, same view; a zoom window outside the new data is dropped."""
        state = replace(self, series=tuple(series))
        if state.x_mode != "step" and not state.has_times():
            state = replace(state, x_mode="step", window=None, cursor=None)
        return state._clamped()

    def smoother(self, direction: int = 1) -> ChartState:
        """Next smoothing level up (direction 1) or down (-1); 0 is off."""
        levels = SMOOTHING_LEVELS
        if direction > 0:
            nxt = next((w for w in levels if w > self.smoothing), levels[-1])
        else:
            nxt = next((w for w in reversed(levels) if w < self.smoothing), 0.0)
        return replace(self, smoothing=nxt)

    def has_times(self) -> bool:
        return any(s.times is not None for s in self.series)

    def next_x_mode(self) -> ChartState:
        """Cycle step -> relative -> wall; the time modes are skipped without time data."""
        if not self.has_times():
            return replace(self, x_mode="step")
        mode = X_MODES[(X_MODES.index(self.x_mode) + 1) % len(X_MODES)]
        return replace(self, x_mode=mode, window=None, cursor=None)

    def toggled_log(self) -> ChartState:
        return replace(self, log_y=not self.log_y)

    def toggled_robust(self) -> ChartState:
        return replace(self, robust_y=not self.robust_y)

    def cursor_moved(self, cells: int, plot_cells: int) -> ChartState:
        """Move the cursor by whole cells of a plot `plot_cells` wide; reaching the right
        edge of an unzoomed chart returns to following the newest point.
        """
        lo, hi = self.x_range()
        step = (hi - lo) / max(1, plot_cells)
        start = hi if self.cursor is None else self.cursor
        new = min(max(start + cells * step, lo), hi)
        if new >= hi and self.window is None:
            return replace(self, cursor=None)
        return replace(self, cursor=new)

    def zoomed(self, factor: float) -> ChartState:
        """Scale the x window by `factor` (< 1 zooms in) keeping the cursor where it is."""
        extent = self.x_extent()
        if extent is None:
            return self
        lo, hi = self.x_range()
        anchor = hi if self.cursor is None else self.cursor
        frac = (anchor - lo) / (hi - lo) if hi > lo else 1.0
        width = max((hi - lo) * factor, self._min_width(extent))
        new_lo = anchor - frac * width
        return replace(self, window=(new_lo, new_lo + width))._clamped()

    def panned(self, direction: float) -> ChartState:
        """Shift a zoomed window by a quarter of its width per unit of `direction`."""
        if self.window is None:
            return self
        lo, hi = self.window
        shift = (hi - lo) * 0.25 * direction
        return replace(self, window=(lo + shift, hi + shift))._clamped()

    def _min_width(self, extent: tuple[float, float]) -> float:
        floor = 4.0 if self.x_mode == "step" else 1e-3
        return max((extent[1] - extent[0]) * 1e-6, floor)

    def _clamped(self) -> ChartState:
        state = self
        if self.window is not None:
            state = replace(state, window=_fit_window(self.window, self.x_extent()))
        if state.cursor is not None:
            lo, hi = state.x_range()
            state = replace(state, cursor=min(max(state.cursor, lo), hi))
        return state

    # --- derived views ---------------------------------------------------------------

    def x_extent(self) -> tuple[float, float] | None:
        """The x range of all data in the current mode, or None without any."""
        los, his = [], []
        for s in self.series:
            x, _ = s.x(self.x_mode)
            if len(x):
                los.append(float(x[0]))
                his.append(float(x[-1]))
        if not los:
            return None
        return min(los), max(his)

    def x_range(self) -> tuple[float, float]:
        """The visible x range: the zoom window, else all data, padded when it is a point."""
        if self.window is not None:
            return self.window
        extent = self.x_extent()
        if extent is None:
            return (0.0, 1.0)
        lo, hi = extent
        if hi <= lo:
            return (lo - 1.0, hi + 1.0)
        return lo, hi

    def visible(self, s: Series, which: str = "values") -> tuple[FloatArray, FloatArray]:
        """x and view-space y of a series' points inside the visible x range."""
        x, _ = s.x(self.x_mode)
        y = s.y(self.x_mode, self.smoothing, self.log_y, which)
        lo, hi = self.x_range()
        i0 = int(np.searchsorted(x, lo, side="left"))
        i1 = int(np.searchsorted(x, hi, side="right"))
        return x[i0:i1], y[i0:i1]

    def y_range(self) -> tuple[float, float]:
        """The y range to show (log10 units with log_y): all visible values, or the 1st to
        99th percentile of them with robust_y so one spike cannot flatten the curve.
        """
        parts: list[FloatArray] = []
        for s in self.series:
            parts.append(self.visible(s)[1])
            if self.smoothing > 0:
                parts.append(self.visible(s, "smoothed")[1])
            if s.band is not None and not self.robust_y:
                parts.append(self.visible(s, "lower")[1])
                parts.append(self.visible(s, "upper")[1])
        lo, hi = math.inf, -math.inf
        if self.robust_y:
            data = [p[np.isfinite(p)] for p in parts]
            allv = np.concatenate(data) if data else np.zeros(0)
            if len(allv) > _PERCENTILE_SAMPLE:
                allv = allv[:: math.ceil(len(allv) / _PERCENTILE_SAMPLE)]
            if len(allv):
                lo, hi = (float(v) for v in np.percentile(allv, ROBUST_PERCENTILES))
        else:
            for p in parts:
                finite = p[np.isfinite(p)]
                if len(finite):
                    lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
        if lo > hi:
            return (0.0, 1.0)
        if hi == lo:
            return _pad_constant(lo, self.log_y)
        return lo, hi

    def readouts(self) -> list[Readout]:
        """Each series' point nearest the cursor (its newest point while following)."""
        out = []
        for i, s in enumerate(self.series):
            x, _ = s.x(self.x_mode)
            if len(x) == 0:
                out.append(Readout(i, None, None, None))
                continue
            j = _nearest(x, self.cursor_x())
            raw = s.y(self.x_mode, 0.0, False)
            smooth = s.y(self.x_mode, self.smoothing, False, "smoothed") if self.smoothing else None
            out.append(
                Readout(
                    i,
                    float(x[j]),
                    float(raw[j]),
                    None if smooth is None else float(smooth[j]),
                )
            )
        return out

    def cursor_x(self) -> float:
        """The cursor's x: where it is, or the newest x while it follows the newest point."""
        if self.cursor is not None:
            return self.cursor
        extent = self.x_extent()
        return self.x_range()[1] if extent is None or self.window is not None else extent[1]


def _fit_window(
    window: tuple[float, float], extent: tuple[float, float] | None
) -> tuple[float, float] | None:
    """Slide a window inside the data, keeping its width; None once it shows everything."""
    if extent is None:
        return None
    lo, hi = window
    e_lo, e_hi = extent
    width = hi - lo
    # A relative tolerance: zoom in and out again must land on "everything" despite rounding.
    if width >= (e_hi - e_lo) * (1 - 1e-9) or width <= 0:
        return None
    if lo < e_lo:
        lo, hi = e_lo, e_lo + width
    if hi > e_hi:
        lo, hi = e_hi - width, e_hi
    return lo, hi


def _nearest(x: FloatArray, target: float) -> int:
    j = int(np.searchsorted(x, target))
    if j <= 0:
        return 0
    if j >= len(x):
        return len(x) - 1
    return j if x[j] - target < target - x[j - 1] else j - 1


def _pad_constant(v: float, log_y: bool) -> tuple[float, float]:
    """A range around a constant: half a decade in log space, else +-10% (or +-1 at 0)."""
    if log_y:
        return v - 0.5, v + 0.5
    d = abs(v) * 0.1 or 1.0
    return v - d, v + d
