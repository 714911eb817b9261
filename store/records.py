"""Reading one run folder into a plain record: run.json, params, merged summaries.

This is the per-run unit that the index cache keeps and that `runs()` turns into a frame.
It reads only small JSON files; metric parts are never touched here.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths
from .errors import SchemaVersionError
from .safe_files import (
    CAP_JSON,
    CAP_PARAMS,
    CAP_RUN_JSON,
    CAP_SUMMARY,
    open_dir,
    read_json,
    store_root_of,
)
from .schema import RUN_SCHEMA_VERSION

Signature = tuple[int, ...]


@dataclass(frozen=True)
class Problem:
    """A file or folder the reader skipped, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def signature(run: str) -> Signature | None:
    """mtimes of the run folder, its run.json and its summary folder; None if the folder is gone.

    Writers replace files by rename (docs/FORMAT.md), which bumps the mtime of the folder
    holding them, so two folders stand for params.json, inputs.json and the summaries.
    run.json gets its own stat because people edit it by hand, in place. On a 100k-run store
    these stats are most of a warm open.
    """
    try:
        folder = os.stat(run).st_mtime_ns
    except FileNotFoundError:
        return None
    mtimes = [folder]
    for name in (paths.RUN_JSON, paths.SUMMARY_DIR):
        try:
            mtimes.append(os.stat(f"{run}/{name}").st_mtime_ns)  # f-string: cheaper than join
        except FileNotFoundError:
            mtimes.append(0)
    return tuple(mtimes)


def read_record(run: str | Path, problems: list[Problem]) -> dict[str, Any] | None:
    """The record of one run folder, or None (with a Problem) when it cannot be read.

    The folder is listed first: opening files that are not there costs more, on a 100k-run
    store, than parsing the ones that are. Every file is read as untrusted input
    (store/safe_files.py) and every field the frame or RunInfo uses is checked here, so a
    crafted file costs its run (or the field) and a Problem, never the listing.
    """
    folder = str(run)
    try:
        names = set(os.listdir(folder))
    except FileNotFoundError:
        return None
    except OSError as exc:
        problems.append(Problem(folder, f"unreadable folder: {exc}"))
        return None
    if paths.RUN_JSON not in names:
        reason = "empty run folder" if not names else "run folder without run.json"
        problems.append(Problem(folder, reason))
        return None
    root = store_root_of(folder)
    has = {name: name in names for name in (paths.PARAMS_JSON, paths.INPUTS_JSON)}
    where = f"{folder}/{paths.RUN_JSON}"
    try:
        meta = read_json(where, CAP_RUN_JSON, root)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        problems.append(Problem(where, f"unreadable run.json: {exc}"))
        return None
    if not isinstance(meta, dict) or "run_id" not in meta:
        problems.append(Problem(where, "run.json is not a run description"))
        return None
    # The folders are the truth (docs/FORMAT.md): a run moved to another experiment folder
    # belongs to that experiment.
    parent, name = os.path.split(folder.rstrip("/"))
    meta["run_id"], meta["experiment"] = name, os.path.basename(parent)
    version = meta.get("schema_version")
    if version != RUN_SCHEMA_VERSION:
        err = SchemaVersionError(f"unknown schema_version {version!r:.40} (this mmtop reads 1)")
        problems.append(Problem(where, str(err)))
        return None
    check_meta(meta, where, problems)
    params: Any = {}
    if has[paths.PARAMS_JSON]:
        where = f"{folder}/{paths.PARAMS_JSON}"
        try:
            params = read_json(where, CAP_PARAMS, root)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            problems.append(Problem(where, f"unreadable params.json: {exc}"))
        if not isinstance(params, dict):
            problems.append(Problem(where, "params.json is not a JSON object: params skipped"))
            params = {}
    metrics, values, system = read_summaries(folder, problems, root)
    return {
        "meta": meta,
        "params": params,
        "metrics": metrics,
        "values": values,
        "system": system,
        "datasets": _datasets(folder, root) if has[paths.INPUTS_JSON] else {},
    }


def check_meta(meta: dict[str, Any], where: str, problems: list[Problem]) -> None:
    """Make run.json's fields the types readers rely on; a field that cannot be is dropped
    (times stay, and show as invalid) and reported."""

    def bad(field: str, why: str) -> None:
        problems.append(Problem(where, f"{field!r} {why}: field skipped"))

    for field in ("created", "ended"):
        value = meta.get(field)
        if value is not None and parse_time(value) is None:
            bad(field, "is not a time in range")
    for field in ("name", "status", "host", "user"):
        value = meta.get(field)
        if value is not None and not isinstance(value, str):
            bad(field, "is not text")
            del meta[field]
    pid = meta.get("pid")
    if pid is not None and not is_int64(pid):
        bad("pid", "is not a 64-bit integer")
        meta["pid"] = None
    command = meta.get("command")
    if command is not None and not isinstance(command, list | str):
        bad("command", "is not a list")
        meta["command"] = None
    tags = meta.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        bad("tags", "is not a list of text")
        meta["tags"] = []
    error = meta.get("error")
    if error is not None and not isinstance(error, dict):
        meta["error"] = {"message": str(error)}


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 time as an aware datetime; None for anything else, and for times whose
    UTC value is outside what datetime holds (`0001-01-01T00:00:00+14:00`)."""
    if not isinstance(value, str):
        return None
    try:
        t = dt.datetime.fromisoformat(value)
        return t.astimezone(dt.UTC) if t.tzinfo else t.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        return None


def is_int64(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and _I64_MIN <= value <= _I64_MAX


_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def _datasets(run: str, root: str) -> dict[str, str]:
    """name -> fingerprint of the datasets in inputs.json (a small file)."""
    try:
        entries = read_json(f"{run}/{paths.INPUTS_JSON}", CAP_JSON, root)
    except (OSError, ValueError):
        return {}
    if not isinstance(entries, list):
        return {}
    return {
        str(e["name"]): str(e.get("fingerprint"))
        for e in entries
        if isinstance(e, dict) and "name" in e
    }


def read_summaries(
    run: str | Path, problems: list[Problem], root: str | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, float], dict[str, dict[str, Any]]]:
    """Merge every writer's summary file: counts add, min/max combine, newest `last` wins.

    Returns (metric stats, explicit summary values, system-metric stats). A file that is not
    a summary is skipped, an entry that is not a metric's stats is skipped, each reported.
    """
    metrics: dict[str, dict[str, Any]] = {}
    values: dict[str, float] = {}
    system: dict[str, dict[str, Any]] = {}
    folder = f"{run}/{paths.SUMMARY_DIR}"
    root = store_root_of(run) if root is None else root
    try:
        dir_fd = open_dir(folder, root)
    except FileNotFoundError:
        return metrics, values, system
    except OSError as exc:
        problems.append(Problem(folder, f"unreadable summary folder: {exc}"))
        return metrics, values, system
    docs: list[tuple[float, dict[str, Any]]] = []
    try:
        for name in sorted(n for n in os.listdir(dir_fd) if n.endswith(".json")):
            path = f"{folder}/{name}"
            try:
                doc = read_json(path, CAP_SUMMARY, root, dir_fd, name)
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as exc:
                problems.append(Problem(path, f"unreadable summary: {exc}"))
                continue
            if not isinstance(doc, dict):
                problems.append(Problem(path, "unreadable summary: not a JSON object"))
                continue
            updated = doc.get("updated") or 0
            if not (isinstance(updated, int | float) and math.isfinite(updated)):
                problems.append(Problem(path, "'updated' is not a time: taken as oldest"))
                updated = 0
            docs.append((float(updated), doc))
    finally:
        os.close(dir_fd)
    docs.sort(key=lambda d: d[0])
    for _, doc in docs:
        for section, into in (("metrics", metrics), ("system", system)):
            for key, st in _section(doc, section, folder, problems).items():
                try:
                    _fold(into, key, st)
                except ValueError as exc:
                    problems.append(
                        Problem(folder, f"bad {section} summary for {key!r:.80}: {exc}")
                    )
        for key, value in _section(doc, "values", folder, problems).items():
            number = _number(value)
            if number is None:
                problems.append(Problem(folder, f"bad summary value for {key!r:.80}: skipped"))
            else:
                values[key] = number
    return metrics, values, system


def _section(
    doc: dict[str, Any], name: str, folder: str, problems: list[Problem]
) -> dict[str, Any]:
    found = doc.get(name)
    if found is None:
        return {}
    if not isinstance(found, dict):
        problems.append(Problem(folder, f"summary {name!r} is not a JSON object: skipped"))
        return {}
    return found


def _number(value: Any) -> float | None:
    """A JSON number as float (NaN and ±inf are data); None for anything else."""
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return None
    return None


def _step(value: Any) -> int | None:
    """A step: an integer in int64 range (a whole float too, as other writers may send)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if is_int64(value) else None


def _fold(into: dict[str, dict[str, Any]], key: str, st: Any) -> None:
    if not isinstance(st, dict):
        raise ValueError("not a JSON object")
    step, count = _step(st.get("last_step")), _step(st.get("count"))
    if step is None:
        raise ValueError("'last_step' is not a 64-bit integer")
    if count is None or count < 0:
        raise ValueError("'count' is not a count")
    new: dict[str, Any] = {"last_step": step, "count": count}
    for name in ("last", "min", "max"):
        number = _number(st.get(name))
        if number is None:
            raise ValueError(f"{name!r} is not a number")
        new[name] = number
    last_time = _number(st.get("last_time") or 0.0)
    new["last_time"] = 0.0 if last_time is None or math.isnan(last_time) else last_time
    old = into.get(key)
    if old is None:
        into[key] = new
        return
    old["count"] += new["count"]
    old["min"] = _nanmin(old["min"], new["min"])
    old["max"] = _nanmax(old["max"], new["max"])
    if (new["last_step"], new["last_time"]) >= (old["last_step"], old["last_time"]):
        old["last"], old["last_step"], old["last_time"] = (
            new["last"],
            new["last_step"],
            new["last_time"],
        )


def _nanmin(a: float, b: float) -> float:
    return b if math.isnan(a) else a if math.isnan(b) else min(a, b)


def _nanmax(a: float, b: float) -> float:
    return b if math.isnan(a) else a if math.isnan(b) else max(a, b)
