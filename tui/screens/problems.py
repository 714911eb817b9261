"""The files the reader skipped, and why (opened from the status bar's skipped count)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mmtop.tui.safe_text import safe


class ProblemsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,exclamation_mark", "dismiss", "Close", id="problems.close"),
        Binding("j,down", "scroll_down", "Scroll down", show=False, id="problems.down"),
        Binding("k,up", "scroll_up", "Scroll up", show=False, id="problems.up"),
    ]
    DEFAULT_CSS = """
    ProblemsScreen { align: center middle; }
    ProblemsScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 90%;
        border: round $warning; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, problems: list[Any], root: str = "") -> None:
        super().__init__()
        self.problems = problems
        self.root = root.rstrip("/") + "/" if root else ""

    def _short(self, path: str) -> str:
        """Paths relative to the store root: the part that tells runs apart."""
        return path[len(self.root) :] if self.root and path.startswith(self.root) else path

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="problems-body") as body:
            body.border_title = f"{len(self.problems)} skipped files (esc closes)"
            if not self.problems:
                yield Static(Text("nothing was skipped", style="dim"))
                return
            table = Table.grid(padding=(0, 2))
            table.add_column(ratio=2)
            table.add_column(ratio=1)
            for p in self.problems:
                table.add_row(
                    safe(self._short(str(getattr(p, "path", p)))),
                    safe(getattr(p, "reason", ""), "yellow"),
                )
            yield Static(table)

    def action_scroll_down(self) -> None:
        self.query_one("#problems-body").scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#problems-body").scroll_up()
