"""What screens may ask of the app that hosts them, typed.

Screens sit below the app (an import-linter layer), so they cannot import `MmtopApp` to learn
its type. They ask through this protocol instead: `host(self).get_store()` is a typed
`Store`, where `self.app.get_store()` would be `Any`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from mmtop.store import Store
    from mmtop.tui.launch import Launch


class Host(Protocol):
    launch: Launch
    now: Callable[[], datetime]
    read_only: bool
    watch_mode: str
    run_colours: dict[str, str]

    def get_store(self) -> Store: ...

    def watch_live(self, folders: Iterable[str]) -> None: ...

    def saw_statuses(self, seen: Mapping[str, str], by: object) -> None: ...


def host(node: DOMNode) -> Host:
    """The app running `node`, as the screens know it."""
    return cast(Host, node.app)
