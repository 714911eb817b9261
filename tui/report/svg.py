"""Charts as inline SVG, from the same Series the terminal charts draw.

Coordinates are pixels, written with enough digits that the plotted points map back to
the store's values (the chart's data range is on the <svg> element as data-x0/x1/y0/y1);
NaN and inf break a line, as in the terminal. Colours come from our palette only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from mmtop.tui.charting import Series
from mmtop.tui.charting.ticks import nice_ticks, number_labels
from mmtop.tui.report.page import line

WIDTH, HEIGHT = 370, 230
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 24, 30
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
FALLBACK = "#4c9be8"


def colour(value: str | None) -> str:
    """A palette colour, or the fallback: nothing else reaches a style or attribute."""
    return value if value is not None and _COLOUR.fullmatch(value) else FALLBACK


def legend(entries: Sequence[tuple[str, str | None]]) -> str:
    """One legend for a page of charts: (label, colour) in order, each label once."""
    items = "".join(
        f'<li><span class="swatch" style="background:{colour(c)}"></span>{line(name)}</li>'
        for name, c in entries
    )
    return f'<ul class="legend" id="legend">{items}</ul>\n'


def _range(parts: list[np.ndarray]) -> tuple[float, float] | None:
    finite = [p[np.isfinite(p)] for p in parts]
    finite = [p for p in finite if len(p)]
    if not finite:
        return None
    lo = float(min(p.min() for p in finite))
    hi = float(max(p.max() for p in finite))
    if lo == hi:
        pad = abs(lo) * 0.05 or 0.5
        return lo - pad, hi + pad
    return lo, hi


def line_chart(title: str, series: Sequence[Series], legend_index: dict[str, int]) -> str:
    """One metric key, one polyline (or several, split at NaN/inf) per series."""
    xr = _range([s.steps for s in series])
    yr = _range([s.values[np.isfinite(s.steps)] for s in series])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    head = f'<text class="title" x="{LEFT}" y="15">{line(title)}</text>'
    if xr is None or yr is None:
        return _svg(head + f'<text x="{LEFT}" y="{TOP + 20}">no finite values</text>', None)
    (x0, x1), (y0, y1) = xr, yr

    def px(x: np.ndarray) -> np.ndarray:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: np.ndarray) -> np.ndarray:
        return TOP + (y1 - y) / (y1 - y0) * plot_h

    out = [head]
    out.append(
        f'<rect class="axis" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none"/>'
    )
    yt = [t for t in nice_ticks(y0, y1, 5) if y0 <= t <= y1]
    for t, label in zip(yt, number_labels(yt), strict=True):
        y = float(py(np.array([t]))[0])
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.2f}" y2="{y:.2f}"/>'
        )
        out.append(f'<text x="{LEFT - 4}" y="{y + 4:.2f}" text-anchor="end">{line(label)}</text>')
    integer = all(float(v).is_integer() for v in (x0, x1))
    xt = [t for t in nice_ticks(x0, x1, 5, integer=integer) if x0 <= t <= x1]
    for t, label in zip(xt, number_labels(xt), strict=True):
        x = float(px(np.array([t]))[0])
        out.append(
            f'<text x="{x:.2f}" y="{TOP + plot_h + 14}" text-anchor="middle">{line(label)}</text>'
        )
    out.append(f'<text x="{LEFT + plot_w}" y="{HEIGHT - 3}" text-anchor="end">step</text>')
    for s in series:
        index = legend_index.get(s.name, -1)
        ok = np.isfinite(s.steps) & np.isfinite(s.values)
        xs, ys = px(s.steps), py(s.values)
        for start, stop in _runs_of_true(ok):
            pts = " ".join(
                f"{x!r},{y!r}"
                for x, y in zip(xs[start:stop].tolist(), ys[start:stop].tolist(), strict=True)
            )
            out.append(
                f'<polyline data-series="{index}" stroke="{colour(s.color)}" points="{pts}">'
                f"<title>{line(s.name)}</title></polyline>"
            )
    return _svg("".join(out), (x0, x1, y0, y1))


def _runs_of_true(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each stretch of True in `mask`."""
    found: list[tuple[int, int]] = []
    start = None
    for i, ok in enumerate(mask.tolist()):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            found.append((start, i))
            start = None
    if start is not None:
        found.append((start, len(mask)))
    return found


def _svg(body: str, data_range: tuple[float, float, float, float] | None) -> str:
    extra = ""
    if data_range is not None:
        names = ("data-x0", "data-x1", "data-y0", "data-y1")
        extra = "".join(f' {n}="{v!r}"' for n, v in zip(names, data_range, strict=True))
        extra += f' data-plot="{LEFT} {TOP} {WIDTH - LEFT - RIGHT} {HEIGHT - TOP - BOTTOM}"'
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"{extra}>{body}</svg>\n'
    )


def heat_colour(share: float) -> str:
    """White to blue by the share of a row (0..1); NaN (an empty row) stays white."""
    if not math.isfinite(share):
        share = 0.0
    share = min(max(share, 0.0), 1.0)
    r, g, b = (int(round(255 + (t - 255) * share)) for t in (44, 110, 190))
    return f"#{r:02x}{g:02x}{b:02x}"


def confusion_table(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """Rows are true classes, columns predicted; each cell shaded by its share of the row."""
    head = "".join(f"<th>{line(lab)}</th>" for lab in labels)
    rows = []
    for lab, row in zip(labels, matrix, strict=True):
        total = sum(row)
        tds = []
        for count in row:
            share = count / total if total else float("nan")
            ink = "#fff" if math.isfinite(share) and share > 0.55 else "#1d2430"
            tds.append(f'<td style="background:{heat_colour(share)};color:{ink}">{int(count)}</td>')
        rows.append(f"<tr><th>{line(lab)}</th>{''.join(tds)}</tr>\n")
    return (
        '<table class="heat">\n<thead><tr><th>true \\ predicted</th>'
        f"{head}</tr></thead>\n<tbody>\n{''.join(rows)}</tbody>\n</table>\n"
    )
