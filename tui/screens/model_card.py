"""A version's model card: the README.md `mmtop models export` writes, shown as its plain
Markdown source. Descriptions, params and names in it come from runs, so nothing in it is
interpreted: no markup, no links, no escape sequences."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from mmtop.tui.safe_text import clean, safe


class ModelCardScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="card.back"),
        Binding("j", "scroll_down", "Down", show=False, id="card.down"),
        Binding("k", "scroll_up", "Up", show=False, id="card.up"),
    ]
    DEFAULT_CSS = """
    ModelCardScreen #card-top { height: 1; padding: 0 1; background: $boost; }
    ModelCardScreen #card-body { height: 1fr; padding: 0 1; }
    """

    def __init__(self, ref: str, card: str) -> None:
        super().__init__()
        self.ref = ref
        self.card = card

    def compose(self) -> ComposeResult:
        yield Static(safe(f"model card: {self.ref}", single_line=True), id="card-top")
        with VerticalScroll(id="card-body"):
            yield Static(safe(self.card), id="card-text")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def text(self) -> str:
        return clean(self.card)

    def on_mount(self) -> None:
        self.query_one("#card-body").focus()

    def action_scroll_down(self) -> None:
        self.query_one("#card-body", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#card-body", VerticalScroll).scroll_up()
