"""How an MLflow run maps onto an mmtop run; shared by the file store and the SQLite store."""

from __future__ import annotations

import math
from typing import Any

from .model import SourceRun

SOURCE = "mlflow"
# MLflow's RunStatus, by name (SQLite store) and by number (file store's meta.yaml).
STATUS_NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_FINAL = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "killed"}
NOTE = "mlflow.note.content"
PARENT = "mlflow.parentRunId"
RUN_NAME = "mlflow.runName"
USER = "mlflow.user"
_GIT = {
    "mlflow.source.git.commit": "commit",
    "mlflow.source.git.branch": "branch",
    "mlflow.source.git.repoURL": "remote_url",
}


def status(name: str) -> tuple[str, dict[str, Any] | None]:
    """mmtop's status for an MLflow status; a run still running there ends `killed` here,
    saying why, since nothing will write to the imported copy."""
    final = _FINAL.get(name.upper())
    if final is not None:
        return final, None
    message = f"the run was {name.lower()} in MLflow when it was imported"
    return "killed", {"type": "ImportedUnfinished", "message": message, "traceback": ""}


def param_value(text: str) -> Any:
    """A param as MLflow keeps it (text), as a number when the text is exactly that number's
    spelling (`0.01`, `32`, `True`), so filters like `params.lr > 1e-3` work; else the text."""
    if text in ("True", "False"):
        return text == "True"
    try:
        number = int(text)
        if str(number) == text:
            return number
    except ValueError:
        pass
    try:
        real = float(text)
    except ValueError:
        return text
    return real if math.isfinite(real) and repr(real) == text else text


def build(
    *,
    source_id: str,
    experiment: str,
    name: str | None,
    status_name: str,
    start_ms: int | None,
    end_ms: int | None,
    user: str | None,
    params: dict[str, str],
    tags: dict[str, str],
    uri: str,
) -> SourceRun:
    state, error = status(status_name)
    created = (start_ms or 0) / 1000.0
    code: dict[str, Any] | None = None
    git = {field: tags[key] for key, field in _GIT.items() if tags.get(key)}
    source_name = tags.get("mlflow.source.name")
    if git or source_name:
        code = {
            "command": [source_name] if source_name else None,
            "executable": None,
            "cwd": None,
            "git": {**{"commit": None, "branch": None, "remote_url": None}, **git} or None,
        }
        if not git:
            code["git"] = None
    return SourceRun(
        source=SOURCE,
        source_id=source_id,
        experiment=experiment,
        name=name or tags.get(RUN_NAME) or "",
        status=state,
        created=created,
        ended=end_ms / 1000.0 if end_ms is not None else None,
        user=tags.get(USER) or user or None,
        params={k: param_value(v) for k, v in params.items()},
        tags=[f"{k}={v}" if v else k for k, v in tags.items() if not k.startswith("mlflow.")],
        source_tags=dict(tags),
        notes=tags.get(NOTE) or None,
        code=code,
        error=error,
        parent_id=tags.get(PARENT) or None,
        uri=uri,
    )
