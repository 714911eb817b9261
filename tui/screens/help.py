"""`?`: every key of the current screen, read from the bindings themselves."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

Section = tuple[str, list[tuple[str, str]]]

_KEY_NAMES = {
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "space": "space",
    "escape": "esc",
    "question_mark": "?",
    "slash": "/",
    "left_square_bracket": "[",
    "exclamation_mark": "!",
    "enter": "enter",
    "pagedown": "pagedown",
    "pageup": "pageup",
}


def key_name(key: str) -> str:
    """One key as people write it: `+`, `=`, `<`, `shift+←`, `ctrl+r` (not `plus`,
    `equals_sign`, `less_than_sign`, `shift+left`)."""
    *modifiers, last = key.split("+") if key != "+" else ["+"]
    name = _KEY_NAMES.get(last) or format_key(last)
    return "+".join([*modifiers, name])


def key_label(keys: str) -> str:
    """The keys of one binding (comma separated), each as people write it."""
    return " ".join(key_name(k.strip()) for k in keys.split(","))


def section(title: str, bindings: Iterable[BindingType]) -> Section:
    rows: list[tuple[str, str]] = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            rows.append((key_label(b.key), b.description))
    return title, rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", id="help.close"),
        Binding("j,down", "scroll_down", "Scroll down", show=False, id="help.down"),
        Binding("k,up", "scroll_up", "Scroll up", show=False, id="help.up"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, title: str, sections: list[Section]) -> None:
        super().__init__()
        self.title_text = title
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = f"{self.title_text}: keys (esc closes)"
            # One grid for every section so that descriptions line up down the page.
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold cyan", no_wrap=True)
            table.add_column()
            for title, rows in self.sections:
                if title:
                    table.add_row(Text(title, style="bold underline"), "")
                for keys, description in rows:
                    table.add_row(keys, description)
            yield Static(table)

    def action_scroll_down(self) -> None:
        self.query_one("#help-body").scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#help-body").scroll_up()
