"""A braille canvas: each terminal cell holds 2 x 4 pixels (Unicode U+2800..U+28FF).

Series are drawn as layers of boolean pixels, each layer with an opaque style key (the
widget turns keys into colours, so this module knows nothing of terminals). A cell shows
one colour, so when layers meet in a cell the strongest kind wins: lines over the faint
unsmoothed original over band fills; among layers of the winning kind the dots are merged
and the one drawn last gives the colour.

Coordinates are pixels, floats allowed: x from 0 (left) to px_width - 1, y from 0 (top) to
px_height - 1. Non-finite coordinates are gaps. Everything is vectorised with numpy.
"""

from __future__ import annotations

from collections.abc import Hashable
from enum import IntEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

BRAILLE_BASE = 0x2800
# Bit of each dot, indexed [row 0..3][column 0..1], as the Unicode braille block numbers them.
_DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)
# The same bits flattened in the (row, column) order of a cell's pixels after reshaping.
_DOT_WEIGHTS = _DOT_BITS.reshape(8).astype(np.uint16)


class Kind(IntEnum):
    """How strongly a layer claims a cell; the higher kind present in a cell wins it."""

    FILL = 0
    FAINT = 1
    LINE = 2


Run = tuple[str, Hashable | None]


class BrailleCanvas:
    """Layers of braille pixels over `width` x `height` cells."""

    def __init__(self, width: int, height: int) -> None:
        self.width = max(0, width)
        self.height = max(0, height)
        self.px_width = 2 * self.width
        self.px_height = 4 * self.height
        self._layers: list[tuple[BoolArray, Hashable, Kind]] = []

    def _new_layer(self, style: Hashable, kind: Kind) -> BoolArray:
        pixels = np.zeros((self.px_height, self.px_width), dtype=bool)
        self._layers.append((pixels, style, kind))
        return pixels

    def plot_line(
        self, x: npt.ArrayLike, y: npt.ArrayLike, style: Hashable, kind: Kind = Kind.LINE
    ) -> None:
        """Draw a polyline through the points; a non-finite point breaks it (a gap).

        Every finite point inside the canvas is drawn even when both neighbours are gaps,
        so an isolated point shows as a dot. Segments are clipped to the canvas, so points
        far outside (an outlier beyond a robust y range) cost nothing.
        """
        pixels = self._new_layer(style, kind)
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
        if len(xa) == 0 or self.px_width == 0 or self.px_height == 0:
            return
        ok = np.isfinite(xa) & np.isfinite(ya)
        self._set(pixels, xa[ok], ya[ok])
        both = ok[:-1] & ok[1:]
        if not both.any():
            return
        x0, y0, x1, y1 = xa[:-1][both], ya[:-1][both], xa[1:][both], ya[1:][both]
        x0, y0, x1, y1 = self._clip(x0, y0, x1, y1)
        dx, dy = x1 - x0, y1 - y0
        n = (np.ceil(np.maximum(np.abs(dx), np.abs(dy))) + 1).astype(np.intp)
        seg = np.repeat(np.arange(len(n)), n)
        offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        t = offsets / np.maximum(n - 1, 1)[seg]
        self._set(pixels, x0[seg] + t * dx[seg], y0[seg] + t * dy[seg])

    def _clip(
        self, x0: FloatArray, y0: FloatArray, x1: FloatArray, y1: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Liang-Barsky clipping of segments to the canvas (plus half a pixel of margin).

        Segments wholly outside collapse to a point outside, which `_set` ignores.
        """
        lo_x, hi_x = -0.5, self.px_width - 0.5
        lo_y, hi_y = -0.5, self.px_height - 0.5
        dx, dy = x1 - x0, y1 - y0
        t0 = np.zeros_like(x0)
        t1 = np.ones_like(x0)
        inside = np.ones(len(x0), dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            for p, q in ((-dx, x0 - lo_x), (dx, hi_x - x0), (-dy, y0 - lo_y), (dy, hi_y - y0)):
                parallel = p == 0
                inside &= ~(parallel & (q < 0))
                r = q / p
                t0 = np.where(~parallel & (p < 0), np.maximum(t0, r), t0)
                t1 = np.where(~parallel & (p > 0), np.minimum(t1, r), t1)
        inside &= t0 <= t1
        t0 = np.where(inside, t0, 0.0)
        t1 = np.where(inside, t1, 0.0)
        far = np.where(inside, 0.0, -10.0)  # moved off-canvas so nothing is drawn
        return (x0 + t0 * dx + far, y0 + t0 * dy + far, x0 + t1 * dx + far, y0 + t1 * dy + far)

    def _set(self, pixels: BoolArray, x: FloatArray, y: FloatArray) -> None:
        col = np.rint(x)
        row = np.rint(y)
        ok = (col >= 0) & (col < self.px_width) & (row >= 0) & (row < self.px_height)
        pixels[row[ok].astype(np.intp), col[ok].astype(np.intp)] = True

    def fill_between(
        self, x: npt.ArrayLike, lower: npt.ArrayLike, upper: npt.ArrayLike, style: Hashable
    ) -> None:
        """Shade between two curves sharing sorted `x` (a mean +- std band), in a light
        checkerboard so the lines over it stay readable. Non-finite bounds are gaps.
        """
        pixels = self._new_layer(style, Kind.FILL)
        xa = np.asarray(x, dtype=np.float64)
        la = np.asarray(lower, dtype=np.float64)
        ua = np.asarray(upper, dtype=np.float64)
        if len(xa) == 0 or self.px_width == 0 or self.px_height == 0:
            return
        a = np.minimum(la, ua)
        b = np.maximum(la, ua)
        ok = np.isfinite(xa) & np.isfinite(a) & np.isfinite(b)
        cols = np.arange(self.px_width, dtype=np.float64)
        top = np.full(self.px_width, np.inf)  # smallest pixel y covered per column
        bottom = np.full(self.px_width, -np.inf)
        # Columns between two points: interpolate when both points are finite.
        j = np.searchsorted(xa, cols, side="right") - 1
        inner = (j >= 0) & (j < len(xa) - 1)
        jj = np.clip(j, 0, max(len(xa) - 2, 0))
        if len(xa) >= 2:
            seg_ok = inner & ok[jj] & ok[jj + 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                span = xa[jj + 1] - xa[jj]
                t = np.where(span > 0, (cols - xa[jj]) / span, 0.0)
            a_i = a[jj] + t * (a[jj + 1] - a[jj])
            b_i = b[jj] + t * (b[jj + 1] - b[jj])
            top = np.where(seg_ok, a_i, top)
            bottom = np.where(seg_ok, b_i, bottom)
        # Points in a column: their envelope (many points per column after downsampling).
        pc = np.rint(xa[ok])
        inside = (pc >= 0) & (pc < self.px_width)
        pcol = pc[inside].astype(np.intp)
        np.minimum.at(top, pcol, a[ok][inside])
        np.maximum.at(bottom, pcol, b[ok][inside])
        rows = np.arange(self.px_height, dtype=np.float64)[:, None]
        covered = (rows >= np.rint(top)[None, :]) & (rows <= np.rint(bottom)[None, :])
        checker = (np.add.outer(np.arange(self.px_height), np.arange(self.px_width)) % 2) == 0
        pixels |= covered & checker

    def cells(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.intp]]:
        """Per cell: the braille dot bits shown and the index of the layer owning its colour
        (-1 for an empty cell). Layer indices follow drawing order.
        """
        h, w = self.height, self.width
        if not self._layers or h == 0 or w == 0:
            return np.zeros((h, w), dtype=np.uint8), np.full((h, w), -1, dtype=np.intp)
        stack = np.stack([p for p, _, _ in self._layers])  # (L, 4h, 2w)
        # (L, h, 4, w, 2) -> (L, h, w, 4, 2) -> (L, h, w, 8) dots, in _DOT_WEIGHTS order.
        dots = stack.reshape(len(stack), h, 4, w, 2).transpose(0, 1, 3, 2, 4).reshape(-1, h, w, 8)
        bits = (dots.astype(np.uint16) @ _DOT_WEIGHTS).astype(np.uint8)  # (L, h, w)
        kinds = np.array([k for _, _, k in self._layers], dtype=np.intp)[:, None, None]
        present = bits > 0
        top_kind = np.where(present, kinds, -1).max(axis=0)  # (h, w)
        active = present & (kinds == top_kind[None])
        shown = np.bitwise_or.reduce(np.where(active, bits, 0), axis=0).astype(np.uint8)
        last = len(stack) - 1 - np.argmax(active[::-1], axis=0)
        owner = np.where(active.any(axis=0), last, -1)
        return shown, owner

    def rows(self, cursor_col: int | None = None, cursor_style: Hashable = None) -> list[list[Run]]:
        """The canvas as text: per cell row, runs of (text, style key); empty cells are
        spaces with style None. An empty cell in `cursor_col` shows a thin vertical rule.
        """
        shown, owner = self.cells()
        styles = [s for _, s, _ in self._layers]
        out: list[list[Run]] = []
        for r in range(self.height):
            runs: list[Run] = []
            text: list[str] = []
            current: Hashable | None = None
            for c in range(self.width):
                o = int(owner[r, c])
                if o >= 0:
                    ch, style = chr(BRAILLE_BASE + int(shown[r, c])), styles[o]
                elif c == cursor_col:
                    ch, style = "┊", cursor_style
                else:
                    ch, style = " ", None
                if text and style != current:
                    runs.append(("".join(text), current))
                    text = []
                current = style
                text.append(ch)
            if text:
                runs.append(("".join(text), current))
            out.append(runs)
        return out
