"""The `/` filter bar: an SQL expression or plain words, with history and a completion list.

The bar only edits text and reports it; the screen decides what the text means and
tells the bar whether it was valid (`show_error`). While a field name or a status is
typed, a list of what it may become (tui/filter_completion.py) opens over the table:
`tab` puts the highlighted one in, and pressed again puts the next one in its place
(`shift+tab` the one before), as a shell's menu completion does.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.geometry import Offset
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static

from mmtop.tui.filter_completion import Completion, candidates
from mmtop.tui.filtering import History
from mmtop.tui.safe_text import safe

MAX_SHOWN = 8  # rows of the list; more candidates scroll


class CompletionList(OptionList):
    """The candidates, drawn over whatever is above the bar; never focused (keys stay
    in the bar)."""

    DEFAULT_CSS = """
    CompletionList {
        overlay: screen;
        display: none;
        width: auto;
        min-width: 16;
        max-width: 60;
        height: auto;
        max-height: 8;
        border: none;
        padding: 0;
        background: $panel;
        scrollbar-size-vertical: 1;
    }
    CompletionList > .option-list--option-highlighted { background: $accent; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.can_focus = False
        self.values: tuple[str, ...] = ()

    def offer(self, values: tuple[str, ...]) -> None:
        self.values = values
        self.clear_options()
        # Names come from the runs: shown inert (no markup, no escape sequences).
        self.add_options([safe(v, single_line=True) for v in values])
        self.highlighted = 0 if values else None


class FilterInput(Input):
    BINDINGS = [
        Binding(
            "up", "older", "Earlier filter, or the candidate above", show=False, id="filter.older"
        ),
        Binding(
            "down", "newer", "Later filter, or the candidate below", show=False, id="filter.newer"
        ),
        Binding(
            "tab",
            "complete(1)",
            "Complete the name: the highlighted candidate, again the next (else next pane)",
            show=False,
            id="filter.complete",
        ),
        Binding(
            "shift+tab",
            "complete(-1)",
            "Completion: the candidate before",
            show=False,
            id="filter.complete_back",
        ),
        Binding(
            "enter",
            "enter",
            "Keep the filter (or take the highlighted candidate)",
            show=False,
            id="filter.keep",
        ),
        Binding(
            "escape",
            "clear",
            "Close the candidates, else clear the filter",
            show=False,
            id="filter.clear",
        ),
    ]

    def __init__(self, history: History, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history = history
        self.names: list[str] = []
        # The completion being cycled by tab: what it offers and what tab last put in.
        self._menu: Completion | None = None
        self._put: tuple[int, int] | None = None  # (start, end) of the text tab put in
        self._own_value: str | None = None  # the value tab set (its Changed is not typing)
        self._picked = False  # the user moved in the list with up/down

    # -- the list -----------------------------------------------------------------------

    @property
    def popup(self) -> CompletionList:
        return self.screen.query_one(CompletionList)

    @property
    def popup_open(self) -> bool:
        return bool(self.popup.display) and bool(self.popup.values)

    def refresh_candidates(self) -> None:
        """Offer what the word at the cursor may become (on every edit the user makes)."""
        if self._own_value is not None and self.value == self._own_value:
            return  # the text tab put in: keep cycling the same list
        self._own_value = None
        self._put = None
        self._menu = (
            candidates(self.value, self.cursor_position, self.names) if self.has_focus else None
        )
        self._show(self._menu)

    def _show(self, menu: Completion | None) -> None:
        popup = self.popup
        self._picked = False
        if menu is None or not menu.candidates:
            popup.display = False
            popup.offer(())
            return
        popup.offer(menu.candidates)
        popup.display = True
        self._place(menu)
        # Typing can show or hide the error line under the bar, which moves the bar up or
        # down once laid out: place the list again then.
        self.call_after_refresh(self.place_popup)

    def place_popup(self) -> None:
        if self._menu is not None and self.popup_open:
            self._place(self._menu)

    def _place(self, menu: Completion) -> None:
        # Above the bar (it sits at the foot of the screen), starting under the typed word.
        popup = self.popup
        x = self.content_region.x + menu.start - round(self.scroll_offset.x)
        height = min(len(menu.candidates), MAX_SHOWN)
        width = min(60, max(16, max(len(v) for v in menu.candidates) + 2))
        x = max(0, min(x, self.screen.size.width - width))
        popup.absolute_offset = Offset(x, max(0, self.region.y - height))

    def close_candidates(self) -> None:
        self._menu = None
        self._put = None
        self._show(None)

    # -- keys ---------------------------------------------------------------------------

    def action_complete(self, step: int) -> None:
        if self._menu is None or not self.popup_open:
            self._menu = candidates(self.value, self.cursor_position, self.names)
            self._show(self._menu)
            if self._menu is None:  # nothing to complete: tab moves on, as elsewhere
                if step > 0:
                    self.screen.focus_next()
                else:
                    self.screen.focus_previous()
                return
            self._put = None
        popup = self.popup
        values = popup.values
        if self._put is not None:  # pressed again: the next one in place of the last
            popup.highlighted = ((popup.highlighted or 0) + step) % len(values)
        choice = values[popup.highlighted or 0]
        self._insert(choice)
        if len(values) == 1:
            self.close_candidates()

    def _insert(self, choice: str) -> None:
        menu = self._menu
        assert menu is not None
        start, end = self._put or (menu.start, menu.end)
        value = self.value[:start] + choice + self.value[end:]
        self._put = (start, start + len(choice))
        self._own_value = value
        self.value = value
        self.cursor_position = start + len(choice)

    def action_older(self) -> None:
        if self.popup_open:
            self._move(-1)
            return
        text = self.history.older()
        if text is not None:
            self.value = text
            self.cursor_position = len(text)

    def action_newer(self) -> None:
        if self.popup_open:
            self._move(1)
            return
        text = self.history.newer()
        if text is not None:
            self.value = text
            self.cursor_position = len(text)

    def _move(self, step: int) -> None:
        popup = self.popup
        popup.highlighted = ((popup.highlighted or 0) + step) % len(popup.values)
        self._picked = True

    async def action_enter(self) -> None:
        # A candidate the user went to is taken; one merely offered while a word was
        # typed (`run` offers run_id) is not: enter then keeps the filter as typed.
        if self.popup_open and (self._picked or self._put is not None):
            if self._put is None:
                self._insert(self.popup.values[self.popup.highlighted or 0])
            self.close_candidates()
            return
        self.close_candidates()
        await self.action_submit()

    def action_clear(self) -> None:
        if self.popup_open:
            self.close_candidates()
            return
        self.post_message(FilterBar.Cleared())

    def on_blur(self) -> None:
        self.close_candidates()


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
        yield CompletionList(id="filter-completion")

    @property
    def input(self) -> FilterInput:
        return self.query_one(FilterInput)

    def set_fields(self, names: list[str]) -> None:
        self.input.names = names

    @on(Input.Changed, "#filter-input")
    def _typed(self, _: Input.Changed) -> None:
        # Not stopped: the screen filters on the same message.
        self.input.refresh_candidates()

    def show_error(self, message: str | None) -> None:
        if not message and not self.has_class("-error"):
            return  # the common case while typing: nothing to change, no reflow
        self.set_class(bool(message), "-error")
        self.query_one("#filter-error", Static).update(safe(f"✗ {message}" if message else ""))
        self.call_after_refresh(self.input.place_popup)  # the bar moved
