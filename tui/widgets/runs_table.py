"""The runs table: a Line API widget that renders only the rows on screen.

Textual's DataTable builds every row up front, which takes seconds at 100k runs. Here the
rows live in a polars frame (`RunsModel`); each repaint asks the model for the visible
slice, formats it, and caches the formatted cells until the view or the data changes.
The left block (mark, status, name) stays put while the other columns scroll sideways, and
only the columns in the window are formatted and drawn: a run with 100k metric columns
costs a repaint what a screenful of columns costs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from mmtop.tui import column_rule
from mmtop.tui.columns import Column
from mmtop.tui.formatting import (
    STATUS_STYLES,
    fit,
    fmt_age,
    fmt_duration,
    fmt_number,
    fmt_value,
    live_duration,
    status_glyph,
)
from mmtop.tui.runs_view import RunsModel, View
from mmtop.tui.safe_text import clean

FIXED_KEYS = ("status", "name")
MARK = "●"
SWATCH = "▌"  # in the run's colour (tui/run_colours.py), as on its charts
GAP = 1
GAP_TEXT = " " * GAP
_PLAIN = Style()
_STATUS_STYLES = {status: Style.parse(spec) for status, spec in STATUS_STYLES.items()}


def _cell(value: object, column: Column, now: datetime) -> str:
    kind = column.kind
    if value is None:
        return ""
    if kind == "age":
        return fmt_age(value, now) if isinstance(value, datetime) else ""
    if kind == "duration":
        return fmt_duration(value) if isinstance(value, (int, float)) else ""
    if kind == "tags":
        tags = value if isinstance(value, list) else [value]
        return ",".join(clean(t, single_line=True) for t in tags)
    if kind in ("int", "number"):
        return fmt_number(value)
    if kind == "text":
        return clean(value, single_line=True)
    return fmt_value(value)


def _pad(text: str, width: int, right: bool) -> str:
    if text.isascii():  # the common case, without per-character width lookups
        if len(text) > width:
            text = text[: width - 1] + "…" if width > 1 else text[:width]
            return text
        pad = " " * (width - len(text))
        return pad + text if right else text + pad
    text = fit(text, width)
    if right:
        return " " * (width - cell_len(text)) + text
    return set_cell_size(text, width)


class _Row(NamedTuple):
    """One row's formatted cells (the scrolled part: only the window's columns), kept until
    the view, the data or the window changes."""

    run_id: str
    status: str
    fixed: list[str]
    rest: list[str]
    rest_text: str


class RunsTable(ScrollView, can_focus=True):
    """Rows of runs; the cursor is a row and a column (the column `s` sorts by)."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("left,h", "cursor_left", "Column left", show=False, id="table.left"),
        Binding("right,l", "cursor_right", "Column right", show=False, id="table.right"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("pagedown,ctrl+d", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("home,g", "first", "First row", show=False, id="table.first"),
        Binding("end,G", "last", "Last row", show=False, id="table.last"),
    ]
    COMPONENT_CLASSES = {
        "runs-table--header",
        "runs-table--header-cursor",
        "runs-table--cursor",
        "runs-table--cell-cursor",
        "runs-table--marked",
        "runs-table--mark",
        "runs-table--dim",
    }
    DEFAULT_CSS = """
    RunsTable { background: $surface; }
    RunsTable > .runs-table--header { text-style: bold; background: $panel; }
    RunsTable > .runs-table--header-cursor { text-style: bold reverse; }
    RunsTable > .runs-table--cursor { background: $block-cursor-blurred-background; }
    RunsTable:focus > .runs-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    RunsTable > .runs-table--cell-cursor { text-style: bold underline; }
    RunsTable > .runs-table--marked { text-style: bold; background: $warning 20%; }
    RunsTable > .runs-table--mark { color: $warning; text-style: bold; }
    RunsTable > .runs-table--dim { color: $text-muted; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=False, repaint=False)
    cursor_col: reactive[int] = reactive(1, repaint=False)

    class Highlighted(Message):
        def __init__(self, run_id: str | None) -> None:
            super().__init__()
            self.run_id = run_id

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RunsTable.Highlighted)

    class Opened(Message):
        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    class HeaderClicked(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, now: Callable[[], datetime] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.model = RunsModel()
        self.view = self.model.compute_empty()
        self.marks: set[str] = set()
        self.sort_key = ""
        self.descending = True
        self.frame = 0
        self._now = now or (lambda: datetime.now(UTC))
        self._second = 0  # the clock's second the cached ages were formatted at
        self._fixed: list[Column] = []
        self._rest: list[Column] = []
        self._columns: list[Column] = []
        # Geometry of the scrolled columns, set once per view: width of each, x where each
        # starts (gaps included), and the totals.
        self._rest_widths: list[int] = []
        self._rest_starts: list[int] = []
        self._rest_total = 0
        self._fixed_total = 2
        self._cache: dict[int, _Row] = {}
        self._cache_window = (0, 0)
        self._styles: dict[str, Style] | None = None
        self._last_highlight: str | None = None
        # Numbers wider than the column's measured width (it samples a big frame): the
        # column grows to them, since a number is never cut.
        self._grown: dict[str, int] = {}
        self._swatches: dict[str, Style] = {}
        # Said on the first row when no run is shown (why, and how to get them back).
        self.empty_text = ""

    # -- data ---------------------------------------------------------------------------

    def set_view(
        self,
        model: RunsModel,
        view: View,
        *,
        sort_key: str,
        descending: bool,
        keep: str | None = None,
    ) -> None:
        """Show `view`; keep the cursor on run `keep` when it is still shown."""
        if model is not self.model:
            self._grown.clear()
        self.model = model
        self.view = view
        self.sort_key = sort_key
        self.descending = descending
        focused = self.current_column
        self._fixed = [c for c in view.columns if c.key in FIXED_KEYS]
        self._rest = [c for c in view.columns if c.key not in FIXED_KEYS]
        self._columns = self._fixed + self._rest
        self._layout()
        # The cursor stays on its column when columns come, go or move (a new sort order).
        keys = [c.key for c in self._columns]
        if focused is not None and focused.key in keys:
            self.cursor_col = keys.index(focused.key)
        elif self.cursor_col >= len(view.columns):
            self.cursor_col = max(0, len(view.columns) - 1)
        row = model.position_of(view, keep) if keep else None
        if row is None:
            row = min(self.cursor_row, max(0, len(view) - 1))
        self.cursor_row = row
        self._scroll_to_cursor()
        self.refresh()
        self._post_highlight()

    def _layout(self) -> None:
        """Geometry of the columns from their widths; cached rows are formatted anew."""
        self._fixed_total = 2 + sum(self._width(c) + GAP for c in self._fixed)
        self._rest_widths = [self._width(c) for c in self._rest]
        self._rest_starts = []
        x = 0
        for w in self._rest_widths:
            self._rest_starts.append(x)
            x += w + GAP
        self._rest_total = x
        self._cache.clear()
        self.virtual_size = Size(self._fixed_width() + self._rest_width(), len(self.view) + 1)

    @property
    def columns(self) -> list[Column]:
        return self._columns

    @property
    def current_run_id(self) -> str | None:
        return self.model.run_id_at(self.view, self.cursor_row)

    @property
    def current_column(self) -> Column | None:
        cols = self.columns
        return cols[self.cursor_col] if 0 <= self.cursor_col < len(cols) else None

    def visible_ids(self) -> list[str]:
        return self.model.ids(self.view)

    def tick(self) -> None:
        """Advance the live glyph; once a second also the ages and live durations. Cheap:
        nothing is read, and only the rows on screen are formatted again."""
        self.frame += 1
        second = int(self._now().timestamp())
        if second != self._second:
            self._second = second
            self._cache.clear()
        self.refresh()

    def invalidate(self) -> None:
        self._cache.clear()
        self.refresh()

    # -- geometry -----------------------------------------------------------------------

    def _width(self, column: Column) -> int:
        extra = 1 if column.key == self.sort_key else 0
        grown = self._grown.get(column.key, 0)
        return max(column.width, grown, cell_len(column.label) + extra)

    def _fixed_width(self) -> int:
        return self._fixed_total

    def _rest_width(self) -> int:
        return self._rest_total

    def _window(self, scroll_x: int, room: int) -> tuple[int, int]:
        """Indices (start, stop) of the scrolled columns drawn: the first that starts at or
        after `scroll_x`, and those after it that fit in `room` whole (tui/column_rule.fit).
        A column that does not fit is not drawn at all; one wider than the whole room
        alone is drawn cut (only text can be that wide)."""
        starts = self._rest_starts
        if room <= 0 or not starts:
            return (0, 0)
        first = min(bisect_left(starts, scroll_x), len(starts) - 1)
        widths = self._rest_widths[first:]
        kept = len(column_rule.fit(widths, widths, room, GAP))
        return (first, first + max(kept, 1))

    def _current_window(self) -> tuple[int, int]:
        width = self.scrollable_content_region.width
        room = width - min(self._fixed_width(), width)
        return self._window(round(self.scroll_offset.x), room)

    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_offset.y)
        height = self._body_height()
        y = top
        if self.cursor_row < top:
            y = self.cursor_row
        elif self.cursor_row >= top + height:
            y = self.cursor_row - height + 1
        x = round(self.scroll_offset.x)
        i = self.cursor_col - len(self._fixed)
        if 0 <= i < len(self._rest):
            room = self.scrollable_content_region.width - self._fixed_width()
            first, stop = self._window(x, room)
            if i < first:
                x = self._rest_starts[i]
            elif i >= stop:
                # The fewest columns scrolled away that bring this one in whole.
                right = self._rest_starts[i] + self._rest_widths[i]
                j = bisect_left(self._rest_starts, right - room)
                x = self._rest_starts[min(j, i)]
            else:
                x = self._rest_starts[first]
        self.scroll_to(x=x, y=y, animate=False, immediate=True)

    # -- rendering ----------------------------------------------------------------------

    def _row_cells(self, row: int, window: tuple[int, int]) -> _Row | None:
        if window != self._cache_window:
            self._cache.clear()
            self._cache_window = window
        if row not in self._cache:
            if len(self._cache) > 4000:
                self._cache.clear()
            height = self._body_height()
            start = max(0, row - 2)
            stop = min(len(self.view), row + height + 2)
            cols = self._fixed + self._rest[window[0] : window[1]]
            keys = [c.key for c in cols] + ["created", "run_id", "status"]
            now = self._now()
            n_fixed = len(self._fixed)
            rows = self.model.rows(self.view, start, stop, keys)
            texts = [
                [
                    _cell(
                        live_duration(r[-1], r[-3], v, now) if c.kind == "duration" else v, c, now
                    )
                    for v, c in zip(r, cols, strict=False)
                ]
                for r in rows
            ]
            if self._grow(cols, texts):
                self._layout()
                self._cache_window = window
                self.refresh()
            for offset, (values, row_texts) in enumerate(zip(rows, texts, strict=True)):
                cells = [
                    _pad(t, self._width(c), c.right) for t, c in zip(row_texts, cols, strict=False)
                ]
                rest = cells[n_fixed:]
                self._cache[start + offset] = _Row(
                    str(values[-2]), str(values[-1]), cells[:n_fixed], rest, GAP_TEXT.join(rest)
                )
        return self._cache.get(row)

    def _grow(self, cols: list[Column], texts: list[list[str]]) -> bool:
        """Widen number columns to any of `texts` they cannot hold whole; True if any grew."""
        grown = False
        for i, column in enumerate(cols):
            if column.kind not in ("int", "number"):
                continue
            widest = max((len(row[i]) for row in texts), default=0)
            if widest > self._width(column):
                self._grown[column.key] = widest
                grown = True
        return grown

    def render_lines(self, crop: Region) -> list[Strip]:
        self._styles = None  # styles are looked up once per paint, not once per line
        return super().render_lines(crop)

    def _style(self, name: str) -> Style:
        if self._styles is None:
            base = self.rich_style
            get = self.get_component_rich_style
            self._styles = {
                "base": base,
                "marked": get("runs-table--marked"),
                "cursor": get("runs-table--cursor"),
                "cell": get("runs-table--cell-cursor"),
                "mark": get("runs-table--mark"),
                "dim": get("runs-table--dim"),
                "header": base + get("runs-table--header"),
                "header-cursor": base
                + get("runs-table--header")
                + get("runs-table--header-cursor"),
            }
        return self._styles[name]

    def _colour(self, run_id: str) -> Style:
        colour = self.model.colours.get(run_id)
        if colour is None:
            return _PLAIN
        style = self._swatches.get(colour)
        if style is None:
            style = self._swatches[colour] = Style(color=colour)
        return style

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_y = self.scroll_offset.y
        base = self._style("base")
        if y == 0:
            return self._header(width)
        row = round(scroll_y) + y - 1
        if row >= len(self.view):
            if row == 0 and self.empty_text:
                text = _pad(clean(self.empty_text, single_line=True), max(0, width - 2), False)
                return Strip([Segment("  ", base), Segment(text, base + self._style("dim"))], width)
            return Strip.blank(width, base)
        window = self._current_window()
        got = self._row_cells(row, window)
        if got is None:
            return Strip.blank(width, base)
        marked = got.run_id in self.marks
        style = base
        if marked:
            style = style + self._style("marked")
        is_cursor = row == self.cursor_row
        if is_cursor:
            style = style + self._style("cursor")
        cell_cursor = self.cursor_col if is_cursor and self.has_focus else -1
        fixed = [
            Segment(MARK if marked else " ", style + self._style("mark")),
            Segment(SWATCH, style + self._colour(got.run_id)),
        ]
        for i, (column, text) in enumerate(zip(self._fixed, got.fixed, strict=False)):
            cstyle = style
            if column.kind == "status":
                text = _pad(status_glyph(got.status, self.frame), self._width(column), False)
                cstyle = style + _STATUS_STYLES.get(got.status, _PLAIN)
            if i == cell_cursor:
                cstyle = cstyle + self._style("cell")
            fixed += [Segment(text, cstyle), Segment(GAP_TEXT, style)]
        k = cell_cursor - len(self._fixed) - window[0]
        if 0 <= k < len(got.rest):
            before = "".join(c + GAP_TEXT for c in got.rest[:k])
            after = GAP_TEXT + GAP_TEXT.join(got.rest[k + 1 :])
            rest = [
                Segment(before, style),
                Segment(got.rest[k], style + self._style("cell")),
                Segment(after, style),
            ]
        else:
            rest = [Segment(got.rest_text, style)]
        return self._join_line(fixed, rest, width, style)

    def _header(self, width: int) -> Strip:
        head = self._style("header")
        cursor = self._style("header-cursor")
        fixed: list[Segment] = [Segment("  ", head)]
        rest: list[Segment] = []
        window = self._current_window()
        n_fixed = len(self._fixed)
        shown = [*range(n_fixed), *range(n_fixed + window[0], n_fixed + window[1])]
        for i in shown:
            column = self._columns[i]
            text = column.label
            if column.key == self.sort_key:
                text += "▼" if self.descending else "▲"
            text = _pad(clean(text, single_line=True), self._width(column), column.right)
            target = fixed if i < n_fixed else rest
            target.append(Segment(text, cursor if i == self.cursor_col else head))
            target.append(Segment(GAP_TEXT, head))
        return self._join_line(fixed, rest, width, head)

    def _join_line(
        self,
        fixed: list[Segment],
        rest: list[Segment],
        width: int,
        style: Style,
    ) -> Strip:
        """The fixed block, then the window's columns, cut or padded to `width`.

        `rest` holds the columns of `window` only and is drawn from the first of them, so
        no column is ever drawn from its middle. Built as one Strip: intermediate Strips
        (crop, join, extend) each set up caches, which costs more than the rendering itself
        on a full-table repaint."""
        room = width - min(Segment.get_line_length(fixed), width)
        # Measured, not taken from the geometry: a row's cells end without the trailing gap
        # the header has, and a Strip told a longer length than its text leaves the last
        # cell of the line unwritten on a real terminal (a stale character stays there).
        rest_width = Segment.get_line_length(rest)
        if room <= 0:
            return Strip(fixed).crop(0, width)
        if rest_width > room:  # the trailing gap, or one text column wider than the room
            rest = list(Segment.divide(rest, [room]))[0]
            rest_width = room
        segments = fixed + rest
        if rest_width < room:
            segments = segments + [Segment(" " * (room - rest_width), style)]
        return Strip(segments, width)

    # -- cursor movement ----------------------------------------------------------------

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self._post_highlight()

    def watch_cursor_col(self) -> None:
        self.refresh()

    def _refresh_row(self, row: int) -> None:
        self.refresh_line(row + 1)

    def _post_highlight(self) -> None:
        run_id = self.current_run_id
        if run_id != self._last_highlight:
            self._last_highlight = run_id
            self.post_message(self.Highlighted(run_id))

    def move_to(self, row: int) -> None:
        if len(self.view) == 0:
            return
        self.cursor_row = max(0, min(row, len(self.view) - 1))
        self._scroll_to_cursor()

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_to(self.cursor_row - self._body_height())

    def action_page_down(self) -> None:
        self.move_to(self.cursor_row + self._body_height())

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(len(self.view) - 1)

    def action_cursor_left(self) -> None:
        if self.cursor_col > 0:
            self.cursor_col -= 1
            self._scroll_to_cursor()

    def action_cursor_right(self) -> None:
        if self.cursor_col < len(self.columns) - 1:
            self.cursor_col += 1
            self._scroll_to_cursor()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- mouse (optional, never required) -----------------------------------------------

    def _column_at(self, x: int) -> int | None:
        pos = 2
        for i, column in enumerate(self._fixed):
            if pos <= x < pos + self._width(column) + GAP:
                return i
            pos += self._width(column) + GAP
        if x < pos:
            return None
        first = self._current_window()[0]
        rx = x - pos + (self._rest_starts[first] if self._rest_starts else 0)
        i = bisect_right(self._rest_starts, rx) - 1
        if 0 <= i < len(self._rest) and rx < self._rest_starts[i] + self._rest_widths[i] + GAP:
            return len(self._fixed) + i
        return None

    def on_click(self, event: events.Click) -> None:
        col = self._column_at(event.x)
        if event.y == 0:
            if col is not None:
                self.cursor_col = col
                self.post_message(self.HeaderClicked(self.columns[col].key))
            return
        row = round(self.scroll_offset.y) + event.y - 1
        if 0 <= row < len(self.view):
            self.cursor_row = row
            if col is not None:
                self.cursor_col = col
            if event.chain >= 2 and self.current_run_id:
                self.post_message(self.Opened(self.current_run_id))
