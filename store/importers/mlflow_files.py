"""MLflow's file store (`mlruns/`), read without importing mlflow.

Layout: `<root>/<experiment id>/meta.yaml` (name, lifecycle), `<experiment id>/<run id>/`
holding `meta.yaml` (name, status, times, user), `params/<key>` (the value as text),
`tags/<key>`, and `metrics/<key>` with one `timestamp value step` line per point; keys with
`/` are subfolders. Deleted experiments and runs (lifecycle_stage `deleted`) are left out.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from . import mlflow_common
from .model import ImportError_, Pending, Points, SourceRun

# Folders of mlruns/ that hold no experiment.
_NOT_EXPERIMENTS = {".trash", "models", ".mlflow"}


def load_yaml(path: Path) -> dict[str, Any]:
    """A meta.yaml as a mapping, with PyYAML's safe loader: plain data, nothing constructed."""
    import yaml

    data = yaml.safe_load(path.read_bytes())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    return data


def store_folder(location: str) -> Path:
    return Path(location.removeprefix("file://").removeprefix("file:"))


def scan(location: str, problems: list[dict[str, str]]) -> list[Pending]:
    root = store_folder(location)
    if not root.is_dir():
        raise ImportError_(f"no MLflow file store at {str(root)!r}: not a folder")
    found: list[Pending] = []
    experiments = sorted(
        (e for e in os.scandir(root) if e.is_dir() and e.name not in _NOT_EXPERIMENTS),
        key=lambda e: e.name,
    )
    for entry in experiments:
        exp_dir = Path(entry.path)
        exp_meta = exp_dir / "meta.yaml"
        if not exp_meta.exists():
            continue
        exp = _live_meta(exp_meta, problems)
        if exp is None:
            continue
        name = str(exp.get("name") or entry.name)
        for run_entry in sorted(os.scandir(exp_dir), key=lambda e: e.name):
            run_meta = Path(run_entry.path) / "meta.yaml"
            if not run_entry.is_dir() or not run_meta.exists():
                continue
            meta = _live_meta(run_meta, problems)
            if meta is None:
                continue
            run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_entry.name)
            start = meta.get("start_time")
            found.append(
                Pending(
                    source_id=run_id,
                    created=(start or 0) / 1000.0 if isinstance(start, int) else 0.0,
                    where=str(run_entry.path),
                    load=_loader(Path(run_entry.path), meta, name),
                )
            )
    return found


def _live_meta(path: Path, problems: list[dict[str, str]]) -> dict[str, Any] | None:
    """An experiment's or run's meta.yaml; None when it is deleted in MLflow, or damaged
    (then reported in `problems`)."""
    try:
        meta = load_yaml(path)
    except Exception as exc:  # noqa: BLE001 - a damaged file of any kind is reported
        problems.append({"path": str(path), "reason": _reason(exc)})
        return None
    return None if meta.get("lifecycle_stage") == "deleted" else meta


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _loader(folder: Path, meta: dict[str, Any], experiment: str) -> Any:
    def load() -> SourceRun:
        return read_run(folder, meta, experiment)

    return load


def read_run(folder: Path, meta: dict[str, Any], experiment: str) -> SourceRun:
    status = meta.get("status", 3)
    status_name = mlflow_common.STATUS_NAMES.get(status, str(status))
    end = meta.get("end_time")
    run = mlflow_common.build(
        source_id=str(meta.get("run_id") or folder.name),
        experiment=experiment,
        name=meta.get("run_name") or None,
        status_name=status_name,
        start_ms=meta.get("start_time"),
        end_ms=end if isinstance(end, int) else None,
        user=meta.get("user_id") or None,
        params=texts(folder / "params"),
        tags=texts(folder / "tags"),
        uri=str(folder),
    )
    run.artifacts = str(folder / "artifacts")
    run.artifacts_within = str(folder)
    metrics_dir = folder / "metrics"
    for key, path in _files(metrics_dir):
        run.metrics[key] = read_metric(path)
    return run


def _files(folder: Path) -> list[tuple[str, Path]]:
    """(key, file) under `folder`, keys with `/` for subfolders."""
    out: list[tuple[str, Path]] = []
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            out.append((path.relative_to(folder).as_posix(), path))
    out.sort()
    return out


def texts(folder: Path) -> dict[str, str]:
    return {key: path.read_text(encoding="utf-8") for key, path in _files(folder)}


def read_metric(path: Path) -> Points:
    """One metric file: `timestamp value step` lines (files from before steps existed have
    `timestamp value`, step 0). A line that does not parse fails the whole file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [line for line in lines if line.strip()]
    rows = [line.split() for line in lines]
    widths = {len(r) for r in rows}
    if widths - {2, 3}:
        bad = next(i for i, r in enumerate(rows) if len(r) not in (2, 3))
        raise ValueError(f"{path}: line {bad + 1} is not 'timestamp value step'")
    if widths == {2} or widths == {2, 3}:
        rows = [r if len(r) == 3 else [*r, "0"] for r in rows]
    table = np.array(rows, dtype=str).reshape(len(rows), 3)
    try:
        time_ms = table[:, 0].astype(np.int64)
        value = table[:, 1].astype(np.float64)
        step = table[:, 2].astype(np.int64)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return Points(step=step, time_us=time_ms * 1000, value=value)
