"""Reading one run folder into a plain record: run.json, params, merged summaries.

This is the per-run unit that the index cache keeps and that `runs()` turns into a frame.
It reads only small JSON files; metric parts are never touched here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import paths
from .errors import SchemaVersionError
from .fsio import read_json
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
    store, than parsing the ones that are.
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
    has = {name: name in names for name in (paths.PARAMS_JSON, paths.INPUTS_JSON)}
    where = f"{folder}/{paths.RUN_JSON}"
    try:
        meta = read_json(where)
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
        err = SchemaVersionError(f"unknown schema_version {version!r} (this mmtop reads 1)")
        problems.append(Problem(where, str(err)))
        return None
    params: Any = {}
    if has[paths.PARAMS_JSON]:
        where = f"{folder}/{paths.PARAMS_JSON}"
        try:
            params = read_json(where)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            problems.append(Problem(where, f"unreadable params.json: {exc}"))
    if not isinstance(params, dict):
        params = {}
    metrics, values, system = read_summaries(folder, problems)
    return {
        "meta": meta,
        "params": params,
        "metrics": metrics,
        "values": values,
        "system": system,
        "datasets": _datasets(folder) if has[paths.INPUTS_JSON] else {},
    }


def _datasets(run: str) -> dict[str, str]:
    """name -> fingerprint of the datasets in inputs.json (a small file)."""
    try:
        entries = read_json(f"{run}/{paths.INPUTS_JSON}")
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
    run: str | Path, problems: list[Problem]
) -> tuple[dict[str, dict[str, Any]], dict[str, float], dict[str, dict[str, Any]]]:
    """Merge every writer's summary file: counts add, min/max combine, newest `last` wins.

    Returns (metric stats, explicit summary values, system-metric stats).
    """
    metrics: dict[str, dict[str, Any]] = {}
    values: dict[str, float] = {}
    system: dict[str, dict[str, Any]] = {}
    folder = f"{run}/{paths.SUMMARY_DIR}"
    try:
        entries = sorted(e.path for e in os.scandir(folder) if e.name.endswith(".json"))
    except FileNotFoundError:
        return metrics, values, system
    docs: list[dict[str, Any]] = []
    for path in entries:
        try:
            doc = read_json(path)
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
            docs.append(doc)
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            problems.append(Problem(path, f"unreadable summary: {exc}"))
    docs.sort(key=lambda d: float(d.get("updated") or 0))
    for doc in docs:
        for key, st in (doc.get("metrics") or {}).items():
            try:
                _fold(metrics, key, st)
            except (KeyError, TypeError, ValueError):
                problems.append(Problem(folder, f"bad summary entry for {key!r}"))
        for key, st in (doc.get("system") or {}).items():
            try:
                _fold(system, key, st)
            except (KeyError, TypeError, ValueError):
                problems.append(Problem(folder, f"bad system summary entry for {key!r}"))
        for key, value in (doc.get("values") or {}).items():
            if isinstance(value, int | float):
                values[key] = float(value)
    return metrics, values, system


def _fold(into: dict[str, dict[str, Any]], key: str, st: dict[str, Any]) -> None:
    new = {
        "last": float(st["last"]),
        "last_step": int(st["last_step"]),
        "last_time": float(st.get("last_time") or 0.0),
        "min": float(st["min"]),
        "max": float(st["max"]),
        "count": int(st["count"]),
    }
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
