"""`CompareTable`: the grid behind the compare screen's params, metrics and env tabs.

Row labels sit in the first `fixed` columns and stay put while the run columns scroll
sideways, so fifty runs stay readable. Column `fixed + i` is run (or group) i, which is how
`b` knows which run the cursor highlights. Every cell arrives as Rich Text built from
untrusted text by the caller (through `tui.safe_text`); the table never parses markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from mmtop.tui.formatting import fit
from mmtop.tui.safe_text import safe

COLUMN_WIDTH = 26  # run columns: wide enough for "0.4521 -0.0123 (-2.6%)"
KEY_WIDTH = 36
MAX_CELL_WIDTH = 44  # grouped metric cells: "★ 0.4521±0.0123 n=3  +0.0123 (+2.7%)"


def header(label: str, baseline: bool, width: int = COLUMN_WIDTH) -> Text:
    """A run column's title: the label, cut to fit, with a diamond on the baseline."""
    mark = "◆ " if baseline else ""
    text = safe(mark + fit(label, width - len(mark)), single_line=True)
    if baseline:
        text.stylize("bold")
    return text


class CompareTable(DataTable[Any]):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="compare.table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="compare.table.up"),
        Binding("h", "cursor_left", "Left", show=False, id="compare.table.left"),
        Binding("l", "cursor_right", "Right", show=False, id="compare.table.right"),
    ]

    def __init__(self, fixed: int = 1, **kwargs: Any) -> None:
        super().__init__(cursor_type="cell", zebra_stripes=True, fixed_columns=fixed, **kwargs)
        self.fixed = fixed

    def fill(
        self,
        key_titles: Sequence[str],
        run_titles: Sequence[Text],
        rows: Sequence[Sequence[Text]],
    ) -> None:
        """Replace the whole content; the cursor stays on the same cell when it still exists."""
        where = self.cursor_coordinate
        self.clear(columns=True)
        titles = [Text(t, style="bold") for t in key_titles] + list(run_titles)
        # Explicit widths: measured once here, and fixed columns then render at full width.
        widths = [t.cell_len for t in titles]
        for row in rows:
            for j, value in enumerate(row[: len(widths)]):
                widths[j] = max(widths[j], value.cell_len)
        for j, title in enumerate(titles):
            cap = KEY_WIDTH if j < len(key_titles) else MAX_CELL_WIDTH
            key = f"key{j}" if j < len(key_titles) else f"run{j - len(key_titles)}"
            self.add_column(title, key=key, width=min(widths[j], cap))
        for row in rows:
            self.add_row(*row)
        if self.row_count and self.columns:
            self.cursor_coordinate = Coordinate(
                min(where.row, self.row_count - 1), min(where.column, len(self.columns) - 1)
            )

    @property
    def run_at_cursor(self) -> int | None:
        """Index of the run (or group) column under the cursor; None on a label column."""
        if not self.row_count:
            return None
        column = self.cursor_coordinate.column - self.fixed
        return column if column >= 0 else None

    def text_at(self, row: int, column: int) -> str:
        """The plain text of a cell (for tests and for reading the table back)."""
        value = self.get_cell_at(Coordinate(row, column))
        return value.plain if isinstance(value, Text) else str(value)

    def column_texts(self, column: int) -> list[str]:
        return [self.text_at(r, column) for r in range(self.row_count)]
