"""The `/` filter bar: an SQL expression or plain words, with history and completion.

The bar only edits text and reports it; the screen decides what the text means and
tells the bar whether it was valid (`show_error`).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Label, Static

from mmtop.tui.filtering import History, complete
from mmtop.tui.safe_text import safe


class FieldSuggester(Suggester):
    """Completes the field name being typed (params.*, metrics.*) from the loaded runs."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.names: list[str] = []

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self.names)


class FilterInput(Input):
    BINDINGS = [
        Binding("up", "older", "Earlier filter", show=False, id="filter.older"),
        Binding("down", "newer", "Later filter", show=False, id="filter.newer"),
        Binding("tab", "accept", "Complete field", show=False, id="filter.complete"),
        Binding("escape", "clear", "Clear filter", show=False, id="filter.clear"),
    ]

    def __init__(self, history: History, **kwargs: object) -> None:
        self.fields = FieldSuggester()
        super().__init__(suggester=self.fields, **kwargs)  # type: ignore[arg-type]
        self.history = history

    def action_older(self) -> None:
        text = self.history.older()
        if text is not None:
            self.value = text
            self.cursor_position = len(text)

    def action_newer(self) -> None:
        text = self.history.newer()
        if text is not None:
            self.value = text
            self.cursor_position = len(text)

    def action_accept(self) -> None:
        if self._suggestion and self.cursor_at_end:
            self.value = self._suggestion
            self.cursor_position = len(self.value)

    def action_clear(self) -> None:
        self.post_message(FilterBar.Cleared())


class FilterBar(Vertical):
    """A one-line input with an error line under it that appears only when needed."""

    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar > Horizontal { height: 1; }
    FilterBar Label { width: 2; color: $accent; }
    FilterBar Input, FilterBar Input:focus { border: none; height: 1; padding: 0; width: 1fr; }
    FilterBar #filter-error { color: $error; height: auto; display: none; }
    FilterBar.-error #filter-error { display: block; }
    """

    class Cleared(Message):
        """The user asked to drop the filter (esc in the bar, ctrl+f anywhere)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history = History()

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("/")
            yield FilterInput(
                self.history,
                placeholder="filter: words, or SQL like params.lr > 1e-3 and status = 'finished'",
                id="filter-input",
            )
        yield Static(id="filter-error")

    @property
    def input(self) -> FilterInput:
        return self.query_one(FilterInput)

    def set_fields(self, names: list[str]) -> None:
        self.input.fields.names = names

    def show_error(self, message: str | None) -> None:
        if not message and not self.has_class("-error"):
            return  # the common case while typing: nothing to change, no reflow
        self.set_class(bool(message), "-error")
        self.query_one("#filter-error", Static).update(safe(f"✗ {message}" if message else ""))
