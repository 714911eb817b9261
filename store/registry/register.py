"""Registering a version: serialize into a claimed folder, hash, write the manifest last.

Everything that can be refused (names, aliases, an object no serializer takes) is refused
before a number is claimed; a registration that fails half-way removes its folder, and one
killed half-way leaves a folder without manifest that readers never show.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..ids import hostname, now_iso, username
from ..names import check_text
from . import layout, lineage, versions
from .events import EventLog, State
from .serializers import choose
from .signature import describe, write_example
from .verify import describe_files

MAX_DESCRIPTION = 10_000


def register(
    root: Path,
    name: str,
    model: Any,
    *,
    run: Path | None = None,
    input_example: Any = None,
    aliases: Iterable[str] = (),
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    parent: dict[str, Any] | None = None,
    allow_pickle: bool = False,
    init_kwargs: Mapping[str, Any] | None = None,
    baseline: Any = None,
    baseline_y: Any = None,
    thresholds: dict[str, Any] | None = None,
    reason: str | None = None,
) -> int:
    """Register `model` as the next version of `name`; returns its version number.

    `baseline` (validation inputs; `baseline_y` their labels or a column name) is profiled
    into the version; without it, a baseline the run logged (a table or dataset file named
    baseline, validation or val) is used when there is one.
    """
    layout.check_model_name(name)
    alias_list = [
        layout.check_alias(a) for a in ([aliases] if isinstance(aliases, str) else aliases)
    ]
    if description is not None:
        check_text(description, "description", MAX_DESCRIPTION)
    tag_map = {
        check_text(k, "tag key"): check_text(v, "tag value") for k, v in (tags or {}).items()
    }
    serializer = choose(model, allow_pickle)
    if reason is not None:
        check_text(reason, "retrain reason", MAX_DESCRIPTION)
    if thresholds is not None:
        from ..drift import Thresholds

        Thresholds.from_dict(thresholds)
    _ensure_store(root)
    number, folder = versions.claim(root, name)
    try:
        saved = serializer.save(model, folder / layout.MODEL_DIR, dict(init_kwargs=init_kwargs))
        files = describe_files(folder, layout.MODEL_DIR)
        output = None
        if input_example is not None:
            write_example(input_example, folder / layout.INPUT_EXAMPLE)
            files += describe_files(folder, layout.INPUT_EXAMPLE)
            output = _output_of(serializer, model, input_example)
        found = lineage.from_run(run) if run is not None else {}
        found["parent"] = (
            parent if parent is not None else (lineage.run_parent(run) if run else None)
        )
        if reason is not None:
            found["reason"] = reason
        written = _baseline(folder, serializer, model, baseline, baseline_y, thresholds, run)
        for file_name in written:
            files += describe_files(folder, file_name)
        manifest = {
            "format": layout.MANIFEST_FORMAT,
            "schema_version": layout.MANIFEST_VERSION,
            "name": name,
            "version": number,
            "created": now_iso(),
            "user": username(),
            "host": hostname(),
            "pid": os.getpid(),
            "description": description or "",
            "tags": tag_map,
            "flavour": saved["flavour"],
            "serializer": saved["serializer"],
            "frameworks": saved["frameworks"],
            "load": saved["load"],
            "files": files,
            "size": sum(int(f["size"]) for f in files),
            "signature": {"inputs": describe(input_example), "outputs": describe(output)},
            "input_example": layout.INPUT_EXAMPLE if input_example is not None else None,
            "requirements": lineage.requirements(saved["packages"], run),
            "lineage": found,
            "baseline": written[0] if written else None,
        }
        versions.commit(folder, manifest)
    except BaseException:
        versions.abandon(folder)
        raise
    log = EventLog(root, name)
    log.append(lambda _: {"action": "registered", "version": number, "from": None, "to": number})
    for alias in alias_list:
        move_alias(log, alias, number)
    return number


def _baseline(
    folder: Path,
    serializer: Any,
    model: Any,
    data: Any,
    labels: Any,
    thresholds: dict[str, Any] | None,
    run: Path | None,
) -> list[str]:
    """Profile the baseline into the version folder; returns the files written."""
    from ..monitoring import baseline

    source = "argument"
    if data is None and run is not None:
        found = baseline.from_run(run)
        if found is None:
            return []
        data, column, source = found
        labels = labels if labels is not None else column
    if data is None:
        if labels is not None:
            raise ValueError("baseline_y without baseline: give the inputs they label")
        return []
    doc = baseline.build(
        model, serializer.predict, data, labels, source=source, thresholds=thresholds
    )
    return baseline.write(folder, doc)


def _output_of(serializer: Any, model: Any, example: Any) -> Any:
    """The model's output on its example, for the signature; None when it cannot say."""
    try:
        return serializer.predict(model, example)
    except Exception:  # noqa: BLE001 - a signature is a nicety; registering must not fail
        return None


def _ensure_store(root: Path) -> None:
    from ..folders import ensure_store

    ensure_store(root)


def move_alias(
    log: EventLog, alias: str, version: int | None, *, only_from: int | None = None
) -> dict[str, Any] | None:
    """Point `alias` at `version` (None: remove it); no event when nothing would change.

    `only_from`: change it only while it points at that version (checked against the state
    the event is appended to, so a concurrent move is never undone).
    """

    def make(state: State) -> dict[str, Any] | None:
        current = state.aliases.get(alias)
        if only_from is not None and current != only_from:
            where = "nowhere" if current is None else f"version {current}"
            raise ValueError(f"@{alias} points at {where}, not {only_from}: left as it is")
        if current == version:
            return None
        return {"action": "alias", "alias": alias, "from": current, "to": version}

    return log.append(make)


def change(
    log: EventLog,
    version: int,
    action: str,
    value: Any,
    *,
    key: str | None = None,
    initial: Any = None,
    reason: str | None = None,
) -> dict[str, Any] | None:
    """Record a tag value, description or deprecation of `version`; None when unchanged.

    `initial` is the value the manifest gave it, for a tag or description no event set yet.
    """

    def make(state: State) -> dict[str, Any] | None:
        if action == "tag":
            current: Any = state.tags.get(version, {}).get(str(key), initial)
        elif action == "description":
            current = state.descriptions.get(version, initial)
        else:
            current = version in state.deprecated
        if current == value:
            return None
        body: dict[str, Any] = {"action": action, "version": version, "from": current, "to": value}
        if key is not None:
            body["key"] = key
        if reason:
            body["reason"] = reason
        return body

    return log.append(make)
