"""Deployments: which version of a model serves at which target, as write-once events.

A deployment is an event in the model's history (`"action": "deployed"`, with `target`,
`from` the version it replaced, `to` the version now serving, `note`), so the version serving
a target at any past time is a replay, and a rollback is one more deployment: of the version
the current one replaced. Undeploying is the same event with `to` null: from then on nothing
serves at that target (readers that predate it replay it the same way).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ..names import check_text
from .events import EventLog, State, parse_time

TIMELINE_SCHEMA: dict[str, Any] = {
    "seq": pl.Int64,
    "time": pl.Datetime("us", "UTC"),
    "target": pl.String,
    "version": pl.Int64,
    "from": pl.Int64,
    "rollback": pl.Boolean,
    "undeployed": pl.Boolean,
    "current": pl.Boolean,
    "user": pl.String,
    "host": pl.String,
    "note": pl.String,
}
MAX_NOTE = 2_000


def deploy(
    log: EventLog, version: int, target: str, note: str | None = None
) -> dict[str, Any] | None:
    """Record that `version` now serves at `target`; None when it already does."""
    if note is not None:
        check_text(note, "deployment note", MAX_NOTE)

    def make(state: State) -> dict[str, Any] | None:
        current = state.deployments.get(target)
        if current == version:
            return None
        return _body(target, current, version, note, rollback=False)

    return log.append(make)


def rollback(log: EventLog, target: str, note: str | None = None) -> dict[str, Any]:
    """Deploy again the version the one serving at `target` replaced."""
    if note is not None:
        check_text(note, "deployment note", MAX_NOTE)

    def make(state: State) -> dict[str, Any] | None:
        current = state.deployments.get(target)
        previous = state.deployed_before.get(target)
        if current is None:
            raise ValueError(f"{log.name}: nothing is deployed at {target!r}")
        if previous is None:
            raise ValueError(
                f"{log.name}: version {current} is the first at {target!r}: nothing to roll back to"
            )
        return _body(target, current, previous, note, rollback=True)

    event = log.append(make)
    assert event is not None  # make never returns None
    return event


def undeploy(
    log: EventLog, target: str, note: str | None = None, *, only: int | None = None
) -> dict[str, Any] | None:
    """Record that nothing serves at `target` any more; ValueError when nothing does. With
    `only`, just while that version serves there (None when another one does by now)."""
    if note is not None:
        check_text(note, "deployment note", MAX_NOTE)

    def make(state: State) -> dict[str, Any] | None:
        current = state.deployments.get(target)
        if current is None:
            raise ValueError(f"{log.name}: nothing is deployed at {target!r}")
        if only is not None and current != only:
            return None
        return _body(target, current, None, note, rollback=False)

    return log.append(make)


def _body(
    target: str, current: int | None, version: int | None, note: str | None, *, rollback: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": "deployed",
        "target": target,
        "version": version,
        "from": current,
        "to": version,
    }
    if rollback:
        body["rollback"] = True
    if note:
        body["note"] = note
    return body


def timeline(events: list[dict[str, Any]]) -> pl.DataFrame:
    """Every deployment in order; `current` marks the event each target's version comes from,
    `undeployed` the events that stopped a target (version null, `from` the one that served;
    a target whose last event is one serves nothing now)."""
    rows = [e for e in events if e.get("action") == "deployed" and isinstance(e.get("target"), str)]
    last: dict[str, int] = {}
    for i, event in enumerate(rows):
        last[event["target"]] = i
    out: dict[str, list[Any]] = {col: [] for col in TIMELINE_SCHEMA}
    for i, event in enumerate(rows):
        to, previous = event.get("to"), event.get("from")
        try:
            when = parse_time(str(event.get("time")))
        except ValueError:
            when = None
        out["seq"].append(event.get("seq"))
        out["time"].append(when)
        out["target"].append(event["target"])
        out["version"].append(to if isinstance(to, int) else None)
        out["from"].append(previous if isinstance(previous, int) else None)
        out["rollback"].append(bool(event.get("rollback")))
        out["undeployed"].append(to is None)
        out["current"].append(last[event["target"]] == i and isinstance(to, int))
        for col in ("user", "host", "note"):
            value = event.get(col)
            out[col].append(None if value is None else str(value))
    return pl.DataFrame(out, schema=TIMELINE_SCHEMA)
