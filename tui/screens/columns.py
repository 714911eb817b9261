"""`C`: choose the table's columns by regex (keep or drop matching) or by hand."""

from __future__ import annotations

import re

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from mmtop.tui.columns import ColumnChoice, valid_regex
from mmtop.tui.safe_text import safe


class ColumnPicker(ModalScreen[ColumnChoice | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="columns.cancel"),
        # Priority: the regex Input would otherwise take ctrl+d (delete right) first.
        Binding(
            "ctrl+d", "drop", "Drop columns matching the regex", id="columns.drop", priority=True
        ),
        Binding("ctrl+r", "auto", "Back to automatic columns", id="columns.auto", priority=True),
        Binding(
            "ctrl+s", "apply_list", "Show the ticked columns", id="columns.apply", priority=True
        ),
    ]
    DEFAULT_CSS = """
    ColumnPicker { align: center middle; }
    ColumnPicker > Vertical {
        width: 80; max-width: 100%; height: 90%; border: round $accent;
        background: $surface; padding: 0 1;
    }
    ColumnPicker #columns-error { color: $error; height: auto; }
    ColumnPicker .hint { color: $text-muted; height: auto; width: 100%; }
    ColumnPicker SelectionList { height: 1fr; }
    ColumnPicker Horizontal { height: auto; }
    ColumnPicker Button { min-width: 8; margin-right: 1; }
    """

    def __init__(self, candidates: list[str], shown: list[str], choice: ColumnChoice) -> None:
        super().__init__()
        self.candidates = candidates
        self.shown = set(shown)
        self.choice = choice

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"columns (now: {self.choice.describe()})"
            yield Input(
                value=self.choice.pattern,
                placeholder="regex, e.g. ^params\\.optim|val/",
                id="columns-regex",
            )
            yield Static(id="columns-error")
            yield Label(
                "enter keeps matching · ctrl+d drop matching · ctrl+r automatic · "
                "tab to the list, space ticks, ctrl+s shows ticked · esc cancels",
                classes="hint",
            )
            with Horizontal():
                yield Button("Keep", id="btn-keep")
                yield Button("Drop", id="btn-drop")
                yield Button("Auto", id="btn-auto")
                yield Button("Ticked", id="btn-list")
            yield SelectionList[str](
                *[
                    Selection(safe(key, single_line=True), key, key in self.shown)
                    for key in self.candidates
                ],
                id="columns-list",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _pattern(self) -> str | None:
        pattern = self.query_one("#columns-regex", Input).value
        error = valid_regex(pattern) if pattern else "type a regex first"
        self.query_one("#columns-error", Static).update(safe(error or ""))
        return None if error else pattern

    @on(Input.Changed, "#columns-regex")
    def _preview(self, event: Input.Changed) -> None:
        if not event.value or valid_regex(event.value):
            self.query_one("#columns-error", Static).update(
                safe(valid_regex(event.value) or "") if event.value else ""
            )
            return
        rx = re.compile(event.value, re.IGNORECASE)
        n = sum(1 for k in self.candidates if rx.search(k))
        self.query_one("#columns-error", Static).update(f"matches {n} of {len(self.candidates)}")

    @on(Input.Submitted, "#columns-regex")
    def _submitted(self) -> None:
        self.action_keep()

    def action_keep(self) -> None:
        pattern = self._pattern()
        if pattern is not None:
            self.dismiss(ColumnChoice("keep", pattern))

    def action_drop(self) -> None:
        pattern = self._pattern()
        if pattern is not None:
            self.dismiss(ColumnChoice("drop", pattern))

    def action_auto(self) -> None:
        self.dismiss(ColumnChoice())

    def action_apply_list(self) -> None:
        picked = self.query_one("#columns-list", SelectionList).selected
        order = [k for k in self.candidates if k in set(picked)]
        self.dismiss(ColumnChoice("explicit", explicit=tuple(order)))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        actions = {
            "btn-keep": self.action_keep,
            "btn-drop": self.action_drop,
            "btn-auto": self.action_auto,
            "btn-list": self.action_apply_list,
        }
        if event.button.id in actions:
            actions[event.button.id]()
