"""Whether a screen is seen by the user, for deciding when live reloads are worth doing."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen


def in_view(screen: Screen[Any]) -> bool:
    """On top, or directly under a modal (help, a picker).

    Textual's `Screen.is_current` also holds for the screen under any other screen, so a
    runs screen under the compare screen would keep reloading unseen.
    """
    top = screen.app.screen
    return top is screen or (top.is_modal and screen.is_current)
