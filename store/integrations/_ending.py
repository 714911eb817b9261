"""How a callback-driven run ends when its framework never says so: training raised."""

from __future__ import annotations

import atexit
import weakref
from typing import Any, Protocol

# A run whose framework never reached its train-end hook: training raised and the exception
# was caught (an uncaught one has already ended the run `failed`, with its traceback, through
# the store's exception hook).
UNFINISHED = {
    "type": "TrainingInterrupted",
    "message": "training stopped before the framework's train-end hook (it raised, and the "
    "exception was caught)",
    "traceback": "",
}


class Ending(Protocol):
    def end(self, status: str = "finished", error: dict[str, Any] | None = None) -> None: ...


_owners: weakref.WeakSet[Any] = weakref.WeakSet()


def end_at_exit(owner: Ending) -> None:
    """End `owner`'s open run `failed` at interpreter exit. Registered after a run exists,
    so it runs before the store's own exit handler, which would end the run `finished`."""
    if not _owners:
        atexit.register(_end_all)
    _owners.add(owner)


def _end_all() -> None:
    for owner in list(_owners):
        owner.end("failed", UNFINISHED)
