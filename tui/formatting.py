"""How values look in a terminal cell: numbers, ages, durations, status glyphs.

Pure functions, no Textual: the table, the preview, the detail screen and the CSV export
all ask here so that one value reads the same everywhere.
"""

from __future__ import annotations

import math
import shlex
from datetime import UTC, datetime
from typing import Any

from rich.cells import cell_len, set_cell_size

from mmtop.tui.safe_text import clean

# Glyphs differ in shape, not only colour, so NO_COLOR users still tell them apart.
STATUS_GLYPHS: dict[str, str] = {
    "running": "▶",
    "finished": "✓",
    "failed": "✗",
    "killed": "■",
    "crashed": "☠",
}
# Frames a live row cycles through so a running run visibly moves.
LIVE_FRAMES = ("◐", "◓", "◑", "◒")
STATUS_STYLES: dict[str, str] = {
    "running": "bold green",
    "finished": "blue",
    "failed": "bold red",
    "killed": "yellow",
    "crashed": "bold magenta",
}


def status_glyph(status: str | None, frame: int = 0) -> str:
    if status == "running":
        return LIVE_FRAMES[frame % len(LIVE_FRAMES)]
    return STATUS_GLYPHS.get(status or "", "?")


def fmt_float(value: float, digits: int = 6) -> str:
    """The one rule for a float as short text, in the app, the CLI and chart labels alike:
    `digits` significant digits (`%g`), `nan`, `inf`, `-inf`, and `0` for zero of either
    sign. Data formats (CSV, JSON, Parquet) keep floats exact instead."""
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"  # %g already spells NaN and the infinities this way


def fmt_number(value: object) -> str:
    """Compact, width-bounded (<= 10 chars) number: 4 significant digits for floats."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= 10 else f"{value:.3e}"
    if isinstance(value, float):
        return fmt_float(value, 4)
    return clean(value, single_line=True)


def fmt_value(value: object) -> str:
    """Any param/metric value as one inert line."""
    if value is None:
        return ""
    if isinstance(value, (int, float, bool)):
        return fmt_number(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {fmt_value(v)}" for k, v in value.items()) + "}"
    return clean(value, single_line=True)


def fmt_duration(seconds: float | None) -> str:
    """12s, 4m05s, 3h07m, 2d04h: short enough for a narrow column; the app and the CLI both.

    Under a second keeps two digits (0.25s), so a quick run is not shown as 0s; whole
    seconds are cut, never rounded up (59.7 is 59s, not 60s). Nothing is shown for a
    duration that is unknown, infinite or negative (a clock stepped back).
    """
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return ""
    if seconds < 1:
        return f"{seconds:.2g}s" if seconds >= 0.01 else "0s"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def live_duration(
    status: object, created: object, duration_s: object, now: datetime
) -> float | None:
    """How long a run has run, as of `now`: a running one's to `now` (it ticks between
    reloads; the store's runs to its last heartbeat), any other's as the store has it."""
    stored = float(duration_s) if isinstance(duration_s, (int, float)) else None
    if status != "running" or not isinstance(created, datetime):
        return stored
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    seconds = (now - created).total_seconds()
    return seconds if seconds >= 0 else stored  # a clock behind the writer's


def fmt_age(created: datetime | None, now: datetime) -> str:
    """How long ago, in one unit: 45s, 12m, 5h, 3d, 11w."""
    if created is None:
        return ""
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    s = max(0, int((now - created).total_seconds()))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    if s < 86400 * 14:
        return f"{s // 86400}d"
    return f"{s // (86400 * 7)}w"


def fmt_time(when: datetime | None) -> str:
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


INVALID_TIME = "invalid"


def run_time(info: Any, field: str) -> datetime | str | None:
    """`info.created`/`info.ended`, or INVALID_TIME when run.json holds a value there that is
    not a time in range (the reader reports it in problems)."""
    when = getattr(info, field, None)
    meta = getattr(info, "meta", None)
    if when is None and isinstance(meta, dict) and meta.get(field) is not None:
        return INVALID_TIME
    return when if isinstance(when, datetime) else None


def shell_command(command: object) -> str:
    """A logged command as a shell would take it (`train.py --lr 0.1`, `'a b'` quoted with
    shlex); escape sequences removed and control characters, newlines and tabs included,
    made visible, so one line shows exactly what ran."""
    if command is None:
        return ""
    args = [str(a) for a in command] if isinstance(command, (list, tuple)) else [str(command)]
    joined = shlex.join(args) if isinstance(command, (list, tuple)) else args[0]
    for ch in "\n\t":
        joined = joined.replace(ch, chr(0x2400 + ord(ch)))  # ␊ ␉, as clean() shows the rest
    return clean(joined)


def fmt_bytes(size: int | None) -> str:
    """A file size in binary units (1.5 KiB, 2.0 MiB), in the app and the CLI alike."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def fit(text: str, width: int) -> str:
    """Cut to `width` terminal cells with an ellipsis; padding is the caller's business."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"
