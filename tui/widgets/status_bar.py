"""One line of counts under the table: total, shown, running, marked, watch mode, skipped."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from mmtop.tui.safe_text import safe


@dataclass
class Status:
    total: int = 0
    shown: int = 0
    running: int = 0
    marked: int = 0
    watch: str = "off"
    skipped: int = 0
    sort: str = ""
    read_only: bool = False
    loading: bool = False
    message: str = ""


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar {
        height: 1; background: $panel; color: $text; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis;  /* a cut line says so, at its end */
    }
    """

    def show(self, s: Status) -> None:
        self.status = s
        text = Text()
        text.append(f"{s.shown}/{s.total} shown", style="bold")
        text.append(f"  ▶ {s.running} running", style="green" if s.running else "")
        text.append(f"  ● {s.marked} marked", style="yellow" if s.marked else "")
        text.append(f"  watch: {s.watch}")
        if s.skipped:
            text.append(f"  ⚠ {s.skipped} skipped (!)", style="bold red")
        if s.sort:
            text.append("  sort: ")
            text.append_text(safe(s.sort, single_line=True))
        if s.read_only:
            text.append("  read-only", style="bold yellow")
        if s.loading:
            text.append("  loading…", style="italic")
        if s.message:
            text.append("  ")
            text.append_text(safe(s.message, single_line=True))
        self.update(text, layout=False)  # one fixed line: no reflow per keystroke
