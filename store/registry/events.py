"""A model's history: write-once, numbered event files, and the state they add up to.

Events are `events/<seq>.json`, numbered 1, 2, 3... An event is appended by creating the next
number with create-if-absent; a process that loses the race re-reads the history and tries
again, so `from` always names the state the event really replaced (compare-and-swap on an
append-only log). Current aliases, tags, descriptions and deprecations are derived by replaying
the events in order; replaying only those up to a time gives the state at that time.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fsio import create_json_exclusive, read_json
from ..ids import hostname, now_iso, username
from ..records import Problem
from . import layout

ACTIONS = ("registered", "alias", "tag", "description", "deprecated", "deployed")
MAX_ATTEMPTS = 10_000
# A folder's mtime can stay put through two changes within one clock tick: a listing is only
# skipped for an mtime older than this.
STABLE_NS = 2_000_000_000


@dataclass
class State:
    """What the events of one model add up to."""

    aliases: dict[str, int] = field(default_factory=dict)  # alias -> version
    tags: dict[int, dict[str, str]] = field(default_factory=dict)
    descriptions: dict[int, str] = field(default_factory=dict)
    deprecated: dict[int, str] = field(default_factory=dict)  # version -> reason
    deployments: dict[str, int] = field(default_factory=dict)  # target -> version serving
    deployed_since: dict[str, str] = field(default_factory=dict)  # target -> event time
    deployed_before: dict[str, int] = field(default_factory=dict)  # target -> version replaced

    def aliases_of(self, version: int) -> list[str]:
        return sorted(a for a, v in self.aliases.items() if v == version)


class EventLog:
    """The parsed events of one model, re-read only for files not seen before."""

    def __init__(self, root: Path, name: str) -> None:
        self.folder = layout.events_dir(root, name)
        self.name = name
        self._events: dict[int, dict[str, Any]] = {}
        self._bad: dict[str, Problem] = {}
        self._mtime = -1
        self._state: tuple[tuple[int, int], State] | None = None

    def read(self) -> list[dict[str, Any]]:
        """Every readable event, in sequence order (unreadable ones are in `problems`)."""
        try:
            mtime = os.stat(self.folder).st_mtime_ns
        except FileNotFoundError:
            return []
        if mtime != self._mtime or time.time_ns() - mtime < STABLE_NS:
            self._mtime = mtime
            self._load_new()
        return [self._events[s] for s in sorted(self._events)]

    @property
    def problems(self) -> list[Problem]:
        return list(self._bad.values())

    def _load_new(self) -> None:
        with os.scandir(self.folder) as it:
            names = [e.name for e in it]
        for file_name in names:
            seq = layout.event_seq(file_name)
            if seq is None or seq in self._events:
                continue
            where = self.folder / file_name
            try:
                event = _validated(read_json(where), seq)
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as exc:
                self._bad[file_name] = Problem(str(where), f"unreadable model event: {exc}")
                continue
            self._bad.pop(file_name, None)
            self._events[seq] = event

    def state(self, at: dt.datetime | None = None) -> State:
        events = self.read()
        if at is not None:
            return replay(events, at)
        key = (len(events), events[-1]["seq"] if events else 0)
        if self._state is None or self._state[0] != key:
            self._state = (key, replay(events))
        return self._state[1]

    def append(self, make: Callable[[State], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Append the event `make(current state)` returns (None: nothing to record).

        `make` sees the state of every event before the number this event takes.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(MAX_ATTEMPTS):
            events = self.read()
            body = make(replay(events))
            if body is None:
                return None
            seq = (events[-1]["seq"] if events else 0) + 1
            event = {
                "seq": seq,
                "time": now_iso(),
                "user": username(),
                "host": hostname(),
                "model": self.name,
                **body,
            }
            if create_json_exclusive(self.folder / layout.event_name(seq), event):
                self._events[seq] = event
                return event
            self._mtime = -1  # someone else took that number: read again
        raise RuntimeError(f"{self.folder}: could not append an event (too much contention)")


def _validated(doc: Any, seq: int) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    if doc.get("seq") != seq:
        raise ValueError(f"seq {doc.get('seq')!r} does not match the file name")
    if doc.get("action") not in ACTIONS:
        raise ValueError(f"unknown action {doc.get('action')!r}")
    if not isinstance(doc.get("time"), str):
        raise ValueError("no time")
    return doc


def concerns(event: dict[str, Any], number: int) -> bool:
    """Whether `event` is about version `number`: an alias moved to or from it, or a change
    made to it. Takes a raw event (versions as numbers) or a history row (as text)."""
    if event.get("action") == "alias":
        return str(number) in (str(event.get("from")), str(event.get("to")))
    return bool(event.get("version") == number)


def describe(event: dict[str, Any]) -> str:
    """One line for an event, the same in the app, the model card and the CLI."""
    action = event.get("action")
    if action == "alias":
        old, new = event.get("from") or "(none)", event.get("to") or "(removed)"
        return f"alias @{event.get('alias')}: {old} → {new}"
    if action == "registered":
        return "registered"
    if action == "deployed":
        old, new = event.get("from") or "(none)", event.get("to") or "(none)"
        note = f" ({event['note']})" if event.get("note") else ""
        if event.get("to") is None:
            return f"undeployed from {event.get('target')}: {old} → (none){note}"
        return f"deployed to {event.get('target')}: {old} → {new}{note}"
    key = f" {event.get('key')}" if event.get("key") else ""
    return f"{action}{key}: {event.get('from')} → {event.get('to')}"


def parse_time(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def replay(events: list[dict[str, Any]], at: dt.datetime | None = None) -> State:
    """The state after `events` (in sequence order), or after those at or before `at`."""
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    state = State()
    for event in events:
        if at is not None:
            try:
                if parse_time(event["time"]) > at:
                    break
            except ValueError:
                continue
        _apply(state, event)
    return state


def _apply(state: State, event: dict[str, Any]) -> None:
    action, to = event["action"], event.get("to")
    version = event.get("version")
    if action == "alias":
        alias = event.get("alias")
        if not isinstance(alias, str):
            return
        if isinstance(to, int):
            state.aliases[alias] = to
        else:
            state.aliases.pop(alias, None)
    elif action == "deployed":
        target = event.get("target")
        if not isinstance(target, str):
            return
        if isinstance(to, int):
            state.deployments[target] = to
            state.deployed_since[target] = str(event.get("time"))
        else:
            state.deployments.pop(target, None)
            state.deployed_since.pop(target, None)
        previous = event.get("from")
        if isinstance(previous, int):
            state.deployed_before[target] = previous
        else:
            state.deployed_before.pop(target, None)
    elif not isinstance(version, int):
        return
    elif action == "tag" and isinstance(event.get("key"), str):
        tags = state.tags.setdefault(version, {})
        if to is None:
            tags.pop(event["key"], None)
        else:
            tags[event["key"]] = str(to)
    elif action == "description":
        state.descriptions[version] = str(to or "")
    elif action == "deprecated":
        if to:
            state.deprecated[version] = str(event.get("reason") or "")
        else:
            state.deprecated.pop(version, None)
