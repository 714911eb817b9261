"""Tick positions and short labels for chart axes: numbers, durations and wall-clock times.

Labels are short because a terminal axis has a handful of cells per tick: `1e-3`, `0.25`,
`2.5k`, `1.2M`; durations `90s`, `15m`, `2h`; times `14:05` or dates `Nov 27`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, tzinfo

from mmtop.tui.formatting import fmt_float

_SUFFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
# Steps a person reads at a glance, for durations and clock times alike (seconds).
TIME_STEPS = (
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0,
    MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
    HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
    DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 364 * DAY,
)  # fmt: skip


def nice_step(span: float, max_ticks: int) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10**k that splits `span` into at most `max_ticks` parts."""
    if not span > 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(1, max_ticks)
    base = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * base >= raw * (1 - 1e-9):
            return m * base
    return 10.0 * base


def nice_ticks(lo: float, hi: float, max_ticks: int = 6, *, integer: bool = False) -> list[float]:
    """Round values inside [lo, hi], at most `max_ticks` + 1 of them, evenly spaced.

    With `integer`, the step is at least 1 (training steps are whole numbers).
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return [lo]
    step = nice_step(hi - lo, max_ticks)
    if integer:
        step = max(1.0, step)
        if step != int(step):
            step = float(math.ceil(step))
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    # Round away the binary noise of k * step (0.30000000000000004 -> 0.3).
    digits = max(0, -math.floor(math.log10(step)) + 2)
    return [round(k * step, digits) + 0.0 for k in range(first, last + 1)]


def log_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Ticks for a log10 axis; `lo` and `hi` are exponents (log10 of the data range).

    Returns exponents: whole decades when the range holds at least two, otherwise
    log10 of round linear values inside the range.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    decades = math.floor(hi + 1e-9) - math.ceil(lo - 1e-9) + 1
    if decades >= 2:
        every = max(1, math.ceil((decades - 1) / max(1, max_ticks)))  # intervals
        first = math.ceil(lo - 1e-9)
        return [float(e) for e in range(first, math.floor(hi + 1e-9) + 1) if e % every == 0]
    values = nice_ticks(10.0**lo, 10.0**hi, max_ticks)
    return [math.log10(v) for v in values if v > 0]


def _strip(s: str) -> str:
    return s.rstrip("0").rstrip(".") if "." in s else s


def format_number(value: float, digits: int = 3) -> str:
    """A short label with `digits` significant digits: 0.25, 1e-3, 2.5e-3, 2.5k, 1.2M, -40."""
    if value == 0 or not math.isfinite(value):
        return fmt_float(value)
    a = abs(value)
    sign = "-" if value < 0 else ""
    digits = max(1, digits)
    if a < 1e-2 or a >= 1e15:
        mantissa, exponent = f"{a:.{digits - 1}e}".split("e")
        return f"{sign}{_strip(mantissa)}e{int(exponent)}"
    for scale, suffix in _SUFFIXES:
        if a >= scale * (1 - 0.5 * 10.0**-digits):
            m = a / scale
            decimals = max(0, digits - 1 - math.floor(math.log10(m)))
            text = _strip(f"{m:.{decimals}f}")
            if float(text) >= 1000 and suffix != "T":
                continue  # 999.96k rounds to 1000k: say 1M instead
            return f"{sign}{text}{suffix}"
    decimals = max(0, digits - 1 - math.floor(math.log10(a)))
    return sign + _strip(f"{a:.{decimals}f}")


def parse_number(label: str) -> float:
    """Inverse of `format_number` (for checking that a label says exactly its value)."""
    for scale, suffix in _SUFFIXES:
        if label.endswith(suffix):
            return float(label[: -len(suffix)]) * scale
    return float(label)


def number_labels(values: Sequence[float]) -> list[str]:
    """Labels for tick values: each with the fewest digits that still state it exactly."""
    out = []
    for v in values:
        tolerance = 1e-9 * max(abs(v), 1e-300)
        for digits in range(1, 16):
            label = format_number(v, digits)
            if abs(parse_number(label) - v) <= tolerance:
                break
        out.append(label)
    return out


def time_step(span: float, max_ticks: int) -> float:
    """The smallest readable time step (seconds) giving at most `max_ticks` intervals."""
    raw = span / max(1, max_ticks)
    if raw < 1.0:
        return nice_step(span, max_ticks)  # sub-second: 0.1s, 0.25s, ...
    for step in TIME_STEPS:
        if step >= raw:
            return step
    years = 364 * DAY
    return years * nice_step(raw / years, 1)


def duration_ticks(lo: float, hi: float, max_ticks: int = 6) -> tuple[list[float], list[str]]:
    """Ticks for elapsed seconds on round steps, labelled 0, 30s, 1m, 90s, 15m, 2h, 3d."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        return [], []
    step = time_step(hi - lo, max_ticks) if hi > lo else 1.0
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    ticks = [k * step for k in range(first, last + 1)]
    return ticks, [duration_label(t) for t in ticks]


def duration_label(seconds: float) -> str:
    """A tick label in the largest unit that states `seconds` whole: 90s, 15m, 2h, 3d."""
    if seconds == 0:
        return "0"
    for unit, suffix in ((DAY, "d"), (HOUR, "h"), (MINUTE, "m")):
        if abs(seconds) >= unit and seconds % unit == 0:
            return f"{int(seconds // unit)}{suffix}"
    return number_labels([seconds])[0] + "s"


def format_duration(seconds: float) -> str:
    """Elapsed time for a read-out: 42.5s, 15m, 15m30s, 2h05m, 3d4h."""
    if not math.isfinite(seconds):
        return format_number(seconds)
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < MINUTE:
        return f"{sign}{format_number(s, 3)}s"
    whole = int(round(s))
    if whole < HOUR:
        m, sec = divmod(whole, 60)
        return f"{sign}{m}m" + (f"{sec:02d}s" if sec else "")
    if whole < DAY:
        h, rest = divmod(whole, 3600)
        return f"{sign}{h}h" + (f"{rest // 60:02d}m" if rest // 60 else "")
    d, rest = divmod(whole, 86400)
    return f"{sign}{d}d" + (f"{rest // 3600}h" if rest // 3600 else "")


def _utc_offset(t: float, tz: tzinfo | None) -> float:
    offset = datetime.fromtimestamp(t, tz).astimezone(tz).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def wall_ticks(
    lo: float, hi: float, max_ticks: int = 6, tz: tzinfo | None = None
) -> tuple[list[float], list[str]]:
    """Ticks for epoch seconds, on round local times, labelled HH:MM[:SS] or as dates.

    `tz` defaults to the machine's local zone. Steps align to local midnight, using the
    zone's offset at `lo` (a daylight-saving change inside the range shifts ticks by an hour
    there, which a glance at a chart tolerates).
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        return [], []
    # Clock labels stop at seconds, so finer steps would repeat a label.
    step = max(1.0, time_step(hi - lo, max_ticks)) if hi > lo else 1.0
    offset = _utc_offset(lo, tz)
    first = math.ceil((lo + offset) / step - 1e-9)
    last = math.floor((hi + offset) / step + 1e-9)
    ticks = [k * step - offset for k in range(first, last + 1)]
    return ticks, [format_wall(t, step, tz) for t in ticks]


def format_wall(t: float, step: float = 1.0, tz: tzinfo | None = None) -> str:
    """A wall-clock label precise enough for `step`: 14:05:30, 14:05, Nov 27, 2026-11."""
    moment = datetime.fromtimestamp(t, tz)
    if step < MINUTE:
        return moment.strftime("%H:%M:%S")
    if step < DAY:
        return moment.strftime("%H:%M")
    if step < 91 * DAY:
        return f"{_MONTHS[moment.month - 1]} {moment.day}"
    return moment.strftime("%Y-%m")


def format_timestamp(t: float, tz: tzinfo | None = None) -> str:
    """A full local timestamp for a read-out: 2026-11-27 14:05:30."""
    if not math.isfinite(t):
        return format_number(t)
    return datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S")


def place_labels(positions: Sequence[int], labels: Sequence[str], width: int) -> str:
    """One text line of `width` cells with each label centred on its cell position.

    Labels that would overlap an earlier one or run off the line are dropped (the first and
    last are shifted inwards instead when they only touch the edge).
    """
    line = [" "] * width
    taken_until = -1
    for pos, label in zip(positions, labels, strict=True):
        n = len(label)
        if n == 0 or n > width:
            continue
        start = min(max(0, pos - n // 2), width - n)
        if start <= taken_until:
            continue
        line[start : start + n] = label
        taken_until = start + n  # keep one blank cell between labels
    return "".join(line)


__all__ = [
    "DAY",
    "HOUR",
    "MINUTE",
    "duration_label",
    "duration_ticks",
    "format_duration",
    "format_number",
    "format_timestamp",
    "format_wall",
    "log_ticks",
    "nice_step",
    "nice_ticks",
    "number_labels",
    "parse_number",
    "place_labels",
    "time_step",
    "wall_ticks",
]
