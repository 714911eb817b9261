"""Keys the detail and compare screens share: `j`/`k` move in whatever list, table, tree or
text has focus, so no widget needs to know about them."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.screen import Screen

MOVE_BINDINGS = [
    Binding("j", "move(1)", "Down", show=False, id="move.down"),
    Binding("k", "move(-1)", "Up", show=False, id="move.up"),
]


def move_focused(screen: Screen[Any], direction: int) -> None:
    """Move the focused widget's cursor (lists, tables, trees), else scroll it."""
    widget = screen.focused
    if widget is None:
        return
    cursor = "action_cursor_down" if direction > 0 else "action_cursor_up"
    scroll = "action_scroll_down" if direction > 0 else "action_scroll_up"
    action = getattr(widget, cursor, None) or getattr(widget, scroll, None)
    if action is not None:
        action()


MOVE_HELP = ("move", [("j k", "Down / up in the focused list, table, tree, legend or text")])
