"""Console tab: the tail of the run's console.log, following a live run."""

from __future__ import annotations

from typing import Any

from textual.widgets import Log

from mmtop.tui.safe_text import clean


class ConsoleView(Log):
    DEFAULT_CSS = "ConsoleView { height: 1fr; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(auto_scroll=True, **kwargs)
        self.shown: list[str] = []

    def show(self, lines: list[str], error: str | None = None) -> None:
        if error:
            lines = [f"console.log could not be read: {error}"]
        elif not lines:
            lines = ["nothing logged: no console output for this run"]
        lines = [clean(line) for line in lines]
        if lines == self.shown:
            return
        n = len(self.shown)
        if n and lines[:n] == self.shown:
            self.write_lines(lines[n:])  # the log grew: append, keep the reader's place
        else:
            self.clear()
            self.write_lines(lines)
        self.shown = lines
