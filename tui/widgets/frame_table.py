"""A polars frame in a DataTable, sortable by the cursor's column (`s`, `r` reverses).

For logged tables such as predictions: a few thousand rows at most are shown, after
sorting in polars, so the widget stays fast whatever the table's size.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from textual.binding import Binding
from textual.widgets import DataTable

from mmtop.tui.formatting import fmt_value
from mmtop.tui.safe_text import safe

MAX_ROWS = 2000


class FrameTable(DataTable[Any]):
    BINDINGS = [
        Binding("s", "sort_column", "Sort by column", id="frame.sort"),
        Binding("r", "reverse", "Reverse sort", id="frame.reverse"),
        Binding("j", "cursor_down", "Down", show=False, id="frame.down"),
        Binding("k", "cursor_up", "Up", show=False, id="frame.up"),
        Binding("g", "scroll_top", "First row", show=False, id="frame.first"),
        Binding("G", "scroll_bottom", "Last row", show=False, id="frame.last"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="cell", zebra_stripes=True, **kwargs)
        self.frame = pl.DataFrame()
        self.sort_key: str | None = None
        self.descending = False

    def show(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self._fill()

    def _fill(self) -> None:
        frame = self.frame
        if self.sort_key is not None and self.sort_key in frame.columns:
            frame = frame.sort(self.sort_key, descending=self.descending, nulls_last=True)
        self.clear(columns=True)
        for name in frame.columns:
            arrow = ""
            if name == self.sort_key:
                arrow = " ▼" if self.descending else " ▲"
            self.add_column(safe(name + arrow, single_line=True), key=name)
        for row in frame.head(MAX_ROWS).iter_rows():
            self.add_row(*[safe(fmt_value(v), single_line=True) for v in row])

    @property
    def shown_first_column(self) -> list[Any]:
        """Values of the first column in display order (what tests and users check first)."""
        return [self.get_row_at(i)[0].plain for i in range(self.row_count)]

    def action_sort_column(self) -> None:
        if not self.frame.columns:
            return
        name = self.frame.columns[self.cursor_column]
        if name == self.sort_key:
            self.descending = not self.descending
        else:
            self.sort_key, self.descending = name, False
        self._fill()

    def action_reverse(self) -> None:
        if self.sort_key is not None:
            self.descending = not self.descending
            self._fill()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.move_cursor(column=event.column_index)
        self.action_sort_column()
