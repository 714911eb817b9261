"""A whole chart as lines of styled text runs: title, y axis, braille plot, x axis, legend and
cursor read-out. Pure: the widget only maps style keys to Rich styles, so every layout
decision is testable without a terminal.

Style keys: ("series", i, "line" | "faint" | "band") for plot cells, ("name", i) and
("value", i) for legend and read-out text in a series' colour, and the strings "title",
"status", "axis", "label", "cursor" and "muted". Untrusted text (series names, the title)
is cleaned here so widths are measured on what is shown; the widget still renders every
run through `tui.safe_text.safe`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from rich.cells import cell_len, set_cell_size

from mmtop.tui.charting.canvas import BrailleCanvas, Kind
from mmtop.tui.charting.downsample import minmax_indices
from mmtop.tui.charting.model import ChartState, FloatArray, Readout
from mmtop.tui.charting.ticks import (
    duration_ticks,
    format_duration,
    format_number,
    format_timestamp,
    log_ticks,
    nice_ticks,
    number_labels,
    place_labels,
    wall_ticks,
)
from mmtop.tui.safe_text import clean

Run = tuple[str, Hashable | None]
Line = list[Run]
X_TITLES = {"step": "step", "relative": "time", "wall": "at"}


@dataclass(frozen=True)
class Frame:
    """What the widget paints: `lines` (one per row), and the plot's size in cells, which
    cursor moves need."""

    lines: list[Line]
    plot_width: int
    plot_height: int


def build_frame(
    state: ChartState, width: int, height: int, title: str = "", *, legend: bool = True
) -> Frame:
    """Lay out `state` on `width` x `height` cells; smaller sizes drop title and legend.

    Without `legend` (a legend drawn beside the chart lists the series) the chart has no
    legend line and its read-out names only the cursor's x."""
    width, height = max(0, width), max(0, height)
    show_title = height >= 8
    show_legend = legend and height >= 7 and bool(state.series)
    show_readout = height >= 5
    show_x_axis = height >= 4
    plot_h = height - show_title - show_legend - show_readout - 2 * show_x_axis
    lines: list[Line] = []
    if show_title:
        lines.append(_title_line(state, title, width))
    if plot_h < 1 or width < 4:
        lines.extend([("", None)] for _ in range(height - len(lines)))
        return Frame([_crop(line, width) for line in lines[:height]], 0, 0)

    y_lo, y_hi = state.y_range()
    y_ticks = _y_ticks(state, y_lo, y_hi, plot_h)
    margin = max((cell_len(label) for _, label in y_ticks), default=1)
    plot_w = max(1, width - margin - 1)
    x_lo, x_hi = state.x_range()

    canvas = BrailleCanvas(plot_w, plot_h)
    _draw(state, canvas, x_lo, x_hi, y_lo, y_hi)
    cursor_col = None
    if state.cursor is not None and x_hi > x_lo:
        cursor_col = int(round((state.cursor - x_lo) / (x_hi - x_lo) * (canvas.px_width - 1)))
        cursor_col //= 2
    rows = canvas.rows(cursor_col, "cursor")
    tick_rows = {row: label for row, label in y_ticks}
    for r, runs in enumerate(rows):
        label = tick_rows.get(r, "")
        axis = "┤" if r in tick_rows else "│"
        lines.append([(" " * (margin - cell_len(label)) + label, "label"), (axis, "axis"), *runs])
    if not any(len(s) for s in state.series):
        _centre_message(lines, len(lines) - plot_h, margin + 1, plot_w, plot_h)

    if show_x_axis:
        cols, labels = _x_ticks(state, x_lo, x_hi, plot_w)
        rule = ["─"] * plot_w
        for c in cols:
            if 0 <= c < plot_w:
                rule[c] = "┬"
        lines.append([(" " * margin + "└" + "".join(rule), "axis")])
        lines.append([(" " * (margin + 1) + place_labels(cols, labels, plot_w), "label")])
    if show_legend:
        lines.append(_legend_line(state, width))
    if show_readout:
        lines.append(_readout_line(state, width, names=legend))
    return Frame([_crop(line, width) for line in lines], plot_w, plot_h)


def _crop(line: Line, width: int) -> Line:
    """The runs of `line` that fit in `width` cells (the last one cut if need be)."""
    out: Line = []
    used = 0
    for text, style in line:
        n = cell_len(text)
        if used + n > width:
            if width - used > 0:
                out.append((set_cell_size(text, width - used), style))
            break
        out.append((text, style))
        used += n
    return out


def _fit(text: str, width: int) -> str:
    """`text` cut to `width` cells, with an ellipsis when cut."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return set_cell_size(text, max(0, width))
    return set_cell_size(text, width - 1) + "…"


def _status(state: ChartState) -> str:
    parts = [{"step": "x: step", "relative": "x: relative time", "wall": "x: wall time"}[
        state.x_mode
    ]]  # fmt: skip
    parts.append(f"smooth {state.smoothing:g}" if state.smoothing else "smooth off")
    if state.log_y:
        parts.append("log y")
    if state.robust_y:
        parts.append("outliers ignored")
    if state.window is not None:
        extent = state.x_extent()
        if extent is not None and extent[1] > extent[0]:
            zoom = (extent[1] - extent[0]) / (state.window[1] - state.window[0])
            parts.append(f"zoom {zoom:.3g}x")
    return " · ".join(parts)


def _title_line(state: ChartState, title: str, width: int) -> Line:
    status = _status(state)
    name = clean(title, single_line=True)
    room = width - cell_len(status) - 2
    if room < 4:
        return [(_fit(name, width), "title")]
    name = _fit(name, room)
    gap = width - cell_len(name) - cell_len(status)
    return [(name, "title"), (" " * gap, None), (status, "status")]


def _y_ticks(state: ChartState, lo: float, hi: float, plot_h: int) -> list[tuple[int, str]]:
    """(row, label) for y ticks at round values, at most one per row: about one every third
    row, but at least three (as many as there are rows when fewer), so every chart can be
    read off its axis; finer round steps are tried until that many land on distinct rows."""
    want = min(3, plot_h)
    out: list[tuple[int, str]] = []
    for max_ticks in range(max(1, plot_h // 3), 4 * plot_h + 1):
        out = _y_ticks_at(state, lo, hi, plot_h, max_ticks)
        if len(out) >= want:
            break
    return out


def _y_ticks_at(
    state: ChartState, lo: float, hi: float, plot_h: int, max_ticks: int
) -> list[tuple[int, str]]:
    if state.log_y:
        exps = log_ticks(lo, hi, max_ticks)
        ticks, labels = exps, number_labels([10.0**e for e in exps])
    else:
        ticks = nice_ticks(lo, hi, max_ticks)
        labels = number_labels(ticks)
    px_h = 4 * plot_h
    out: list[tuple[int, str]] = []
    for t, label in zip(ticks, labels, strict=True):
        py = (hi - t) / (hi - lo) * (px_h - 1) if hi > lo else (px_h - 1) / 2
        row = int(round(py)) // 4
        if 0 <= row < plot_h and all(row != r for r, _ in out):
            out.append((row, label))
    return out


def _x_ticks(state: ChartState, lo: float, hi: float, plot_w: int) -> tuple[list[int], list[str]]:
    max_ticks = max(1, plot_w // 10)
    if state.x_mode == "step":
        ticks = nice_ticks(lo, hi, max_ticks, integer=True)
        labels = number_labels(ticks)
    elif state.x_mode == "relative":
        ticks, labels = duration_ticks(lo, hi, max_ticks)
    else:
        ticks, labels = wall_ticks(lo, hi, max_ticks)
    px_w = 2 * plot_w
    cols = [int(round((t - lo) / (hi - lo) * (px_w - 1))) // 2 if hi > lo else 0 for t in ticks]
    return cols, labels


def _to_px(values: FloatArray, lo: float, hi: float, size: int, flip: bool = False) -> FloatArray:
    scale = (size - 1) / (hi - lo) if hi > lo else 0.0
    out = (values - lo) * scale if hi > lo else np.full(len(values), (size - 1) / 2)
    return (size - 1) - out if flip else out


def _draw(
    state: ChartState, canvas: BrailleCanvas, x_lo: float, x_hi: float, y_lo: float, y_hi: float
) -> None:
    """Bands first, then the faint unsmoothed originals, then lines: the canvas settles
    shared cells by kind, and within a kind the later series is on top."""
    mode, w, log_y = state.x_mode, state.smoothing, state.log_y
    cols = canvas.px_width

    def project(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        return (
            _to_px(x, x_lo, x_hi, canvas.px_width),
            _to_px(y, y_lo, y_hi, canvas.px_height, flip=True),
        )

    for i, s in enumerate(state.series):
        if s.band is None:
            continue
        x, _ = s.x(mode)
        lower = s.y(mode, w, log_y, "lower")
        upper = s.y(mode, w, log_y, "upper")
        idx = np.union1d(
            minmax_indices(x, lower, x_lo, x_hi, cols), minmax_indices(x, upper, x_lo, x_hi, cols)
        )
        px, p_lower = project(x[idx], lower[idx])
        _, p_upper = project(x[idx], upper[idx])
        canvas.fill_between(px, p_lower, p_upper, ("series", i, "band"))
    if w > 0:
        for i, s in enumerate(state.series):
            x, _ = s.x(mode)
            y = s.y(mode, w, log_y)
            idx = minmax_indices(x, y, x_lo, x_hi, cols)
            canvas.plot_line(*project(x[idx], y[idx]), ("series", i, "faint"), Kind.FAINT)
    for i, s in enumerate(state.series):
        x, _ = s.x(mode)
        y = s.y(mode, w, log_y, "smoothed" if w > 0 else "values")
        idx = minmax_indices(x, y, x_lo, x_hi, cols)
        canvas.plot_line(*project(x[idx], y[idx]), ("series", i, "line"), Kind.LINE)


def _centre_message(lines: list[Line], first: int, left: int, plot_w: int, plot_h: int) -> None:
    row = first + plot_h // 2
    message = _fit("no data", plot_w)
    pad = (plot_w - cell_len(message)) // 2
    head = lines[row][:2]
    lines[row] = [*head, (" " * pad, None), (message, "muted")]


def _series_runs(state: ChartState, width: int, parts: list[list[Run]], lead: Line) -> Line:
    """Join per-series runs with two spaces, ending with "+N" when they do not all fit."""
    line = list(lead)
    used = sum(cell_len(t) for t, _ in line)
    for k, runs in enumerate(parts):
        need = sum(cell_len(t) for t, _ in runs) + (2 if k else 0)
        rest = len(parts) - k - 1
        reserve = len(f"  +{rest}") if rest else 0
        if used + need + reserve > width:
            more = f"+{len(parts) - k}"
            if used + len(more) + 2 <= width:
                line.append(("  " + more, "muted"))
            break
        if k:
            line.append(("  ", None))
        line.extend(runs)
        used += need
    return line


def _legend_line(state: ChartState, width: int) -> Line:
    parts: list[Line] = []
    for i, s in enumerate(state.series):
        name = _fit(clean(s.name, single_line=True), max(4, width // 2))
        runs: list[Run] = [("━ ", ("value", i)), (name, ("name", i))]
        if s.band is not None:
            runs.append((" ±", ("value", i)))
        parts.append(runs)
    return _series_runs(state, width, parts, [])


def _format_x(state: ChartState, x: float) -> str:
    if state.x_mode == "step":
        return str(int(x)) if float(x).is_integer() else format_number(x, 6)
    if state.x_mode == "relative":
        return format_duration(x)
    return format_timestamp(x)


def cursor_label(state: ChartState) -> str:
    """Where the read-out is taken: "latest step 1200", or "▸ time 2m05s" at the cursor."""
    readouts = state.readouts()
    # Name the x of a real point (the first series' nearest), not the cursor's in-between x.
    x = next((r.x for r in readouts if r.x is not None), state.cursor_x())
    where = "▸ " if state.cursor is not None else "latest "
    return f"{where}{X_TITLES[state.x_mode]} {_format_x(state, x)}"


def readout_value(r: Readout) -> str:
    """A series' value at the cursor: smoothed (raw), or raw, or – when it has no point."""
    if r.value is None:
        return "–"
    if r.smoothed is not None and not math.isnan(r.smoothed):
        return f"{format_number(r.smoothed, 4)} ({format_number(r.value, 4)})"
    return format_number(r.value, 4)


def _readout_line(state: ChartState, width: int, *, names: bool = True) -> Line:
    """The cursor read-out: "step 1200 │ name 0.2345 · name 0.31" (smoothed, then raw)."""
    if not state.series:
        return [("", None)]
    if not names:
        return [(cursor_label(state), "label")]
    lead: Line = [(f"{cursor_label(state)} │ ", "label")]
    parts: list[Line] = []
    for r in state.readouts():
        name = _fit(clean(state.series[r.index].name, single_line=True), max(4, width // 3))
        value = readout_value(r)
        parts.append([(name, ("name", r.index)), (" " + value, ("value", r.index))])
    return _series_runs(state, width, parts, lead)
