"""Where a version came from: its run's params, metrics, datasets and code, and its parent.

Copied into the manifest at registration, so a version keeps its lineage even if the run is
later deleted or moved, and reads it without touching the run.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

from .. import paths
from ..capture.env import canonical_name
from ..fsio import read_json
from ..records import read_summaries


def _json(path: Path) -> Any:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def from_run(run: Path) -> dict[str, Any]:
    """Lineage of a run folder: run id, experiment, name, params, metrics, datasets, code."""
    meta = _json(run / paths.RUN_JSON)
    meta = meta if isinstance(meta, dict) else {}
    params = _json(run / paths.PARAMS_JSON)
    stats, values, _ = read_summaries(run, [])
    metrics: dict[str, float] = {k: s["last"] for k, s in stats.items()}
    metrics.update(values)
    inputs = _json(run / paths.INPUTS_JSON)
    datasets = [
        {k: d.get(k) for k in ("name", "kind", "uri", "fingerprint", "rows", "size")}
        | ({"dataset": d["dataset"]} if isinstance(d.get("dataset"), dict) else {})
        for d in (inputs if isinstance(inputs, list) else [])
        if isinstance(d, dict)
    ]
    code = _json(run / paths.CODE_JSON)
    git = code.get("git") if isinstance(code, dict) else None
    git = git if isinstance(git, dict) else {}
    dirty = git.get("dirty")
    reproduces = meta.get("reproduces")
    edge = {"reproduces": reproduces} if isinstance(reproduces, str) and reproduces else {}
    return {
        "run_id": run.name,
        "experiment": run.parent.name,
        "run_name": meta.get("name"),
        "params": params if isinstance(params, dict) else {},
        "metrics": dict(sorted(metrics.items())),
        "datasets": datasets,
        "code": {
            "commit": git.get("commit"),
            "branch": git.get("branch"),
            "remote_url": git.get("remote_url"),
            "dirty": bool(dirty) if dirty is not None else None,
            "patch_sha256": git.get("patch_sha256"),
        },
        **edge,
    }


def run_parent(run: Path) -> dict[str, Any] | None:
    """The version a run retrains (`store.Run(parent_model=...)`), as recorded in run.json."""
    meta = _json(run / paths.RUN_JSON)
    parent = meta.get("parent_model") if isinstance(meta, dict) else None
    if isinstance(parent, dict) and isinstance(parent.get("version"), int):
        return {"name": str(parent.get("name")), "version": parent["version"]}
    return None


def requirements(packages: list[str], run: Path | None) -> list[str]:
    """`name==version` for `packages`: the run's captured versions first, else this process's."""
    captured: dict[str, str] = {}
    if run is not None:
        env = _json(run / paths.ENV_JSON)
        found = env.get("packages") if isinstance(env, dict) else None
        if isinstance(found, dict):
            captured = {canonical_name(str(k)): str(v) for k, v in found.items()}
    out = []
    for package in packages:
        key = canonical_name(package)
        version = captured.get(key) or installed_version(package)
        out.append(f"{key}=={version}" if version else key)
    return out


def installed_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
