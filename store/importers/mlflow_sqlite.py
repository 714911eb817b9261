"""MLflow's SQLite store (`sqlite:///mlflow.db`), read with the standard library's sqlite3.

The database is opened read-only (a `mode=ro` URI), so importing never changes it, and only
schemas this module knows are read: `alembic_version` must name one of MLflow's migrations
up to the newest one checked here, whose `experiments`, `runs`, `metrics`, `params` and `tags`
tables have the columns read below.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from . import artifacts, mlflow_arrow, mlflow_common
from .mlflow_arrow import ArrowMetrics
from .model import ImportError_, Pending, Points, SourceRun

# Every migration of MLflow's tracking schema up to MLflow 3.17 (its
# mlflow/store/db_migrations/versions); a newer one may have moved what is read here.
KNOWN_REVISIONS = frozenset(
    """
    0584bdc529eb 0a8213491aaa 0c779009ac13 17e22815139b 181f10493468 1971f2d9a75b
    1a0cddfcaa16 1b5f0d9ad7c1 1bd49d398cd23 27a6a02d2cf1 2b4d017a5e9b 2c33131f4dae
    2d6e25af4d3e 3500859a5d39 39d1c3be5f05 3da73c924c2f 400f98739977 4465047574b1
    451aebb31d03 534353b11cbc 5b0e9adcef9c 5d2d30f0abce 6953534de441 6f8d9c3b2a1e
    71994744cf8e 728d730b5ebd 75868b020152 76601a5f987d 770bee3ae1dd 7ac759974ad8
    7d34483879f0 7f2a7d5fae7d 84291f40a231 867495a8f9d4 89d3d66ed43f 89d4b8295536
    90e64c465722 97727af70f4d a1b2c3d4e5f6 a5b4c3d2e1f0 a8b9c0d1e2f3 a8c4a736bde6
    acf3f17fdcc7 ae8bbe7743c9 b7c8d9e0f1a2 b7e2c1a4d9f3 b7e4c1a90f23 bd07f7e963c5
    bda7b8c39065 bf29a5ff90ea c1d2e3f4a5b6 c3d6457b6d8a c3d9e7f1a2b4 c48cb773bb87
    c8d9e0f1a2b3 c9d4e5f6a7b8 cbc13b556ace cc1f77228345 cfd24bdc0731 d0e1f2a3b4c5
    d3e4f5a6b7c8 da6fb0208061 dc11669786a5 de4033877273 df50e92ffc5e e1f2a3b4c5d6
    f5a4f2784254
    """.split()
)
_COLUMNS = {
    "experiments": {"experiment_id", "name", "lifecycle_stage"},
    "runs": {
        "run_uuid",
        "name",
        "user_id",
        "status",
        "start_time",
        "end_time",
        "lifecycle_stage",
        "experiment_id",
        "artifact_uri",
    },
    "metrics": {"key", "value", "timestamp", "run_uuid", "step", "is_nan"},
    "params": {"key", "value", "run_uuid"},
    "tags": {"key", "value", "run_uuid"},
}
# MLflow stores +-inf as +-float max (SQL has no infinity); read back as what was logged.
_FLOAT_MAX = sys.float_info.max


def connect(location: str) -> tuple[sqlite3.Connection, Path]:
    path = Path(location.removeprefix("sqlite:///").removeprefix("sqlite://"))
    if location.startswith("sqlite:////"):
        path = Path("/" + location.removeprefix("sqlite:////"))
    if not path.is_file():
        raise ImportError_(f"no MLflow database at {str(path)!r}")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        # Runs are read in the importer's reading thread, one at a time.
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        check_schema(db, path)
    except sqlite3.DatabaseError as exc:
        raise ImportError_(f"{path}: not a readable SQLite database ({exc})") from None
    return db, path


def check_schema(db: sqlite3.Connection, path: Path) -> None:
    try:
        rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        raise ImportError_(
            f"{path}: not an MLflow tracking database (no alembic_version)"
        ) from None
    versions = {str(r[0]) for r in rows}
    unknown = versions - KNOWN_REVISIONS
    if not versions or unknown:
        shown = ", ".join(sorted(unknown)) or "none"
        raise ImportError_(
            f"{path}: unknown MLflow schema revision {shown} (this mmtop reads the schemas of "
            "MLflow up to 3.17); nothing was imported"
        )
    for table, needed in _COLUMNS.items():
        have = {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}
        missing = needed - have
        if missing:
            raise ImportError_(f"{path}: table {table} lacks {', '.join(sorted(missing))}")


def scan(location: str, problems: list[dict[str, str]]) -> list[Pending]:
    db, path = connect(location)
    experiments = {
        str(eid): str(name)
        for eid, name in db.execute(
            "SELECT experiment_id, name FROM experiments WHERE lifecycle_stage != 'deleted'"
        )
    }
    found: list[Pending] = []
    arrow = mlflow_arrow.ArrowMetrics(path) if mlflow_arrow.available() else None
    rows = db.execute(
        "SELECT run_uuid, name, user_id, status, start_time, end_time, experiment_id, "
        "artifact_uri "
        "FROM runs WHERE lifecycle_stage != 'deleted' ORDER BY start_time, run_uuid"
    ).fetchall()
    for row in rows:
        experiment = experiments.get(str(row[6]))
        if experiment is None:
            continue
        start = row[4] if isinstance(row[4], int) else 0
        found.append(
            Pending(
                source_id=str(row[0]),
                created=start / 1000.0,
                where=f"{path} run {row[0]}",
                load=_loader(db, path, row, experiment, arrow),
            )
        )
    return found


def _loader(
    db: sqlite3.Connection,
    path: Path,
    row: tuple[Any, ...],
    experiment: str,
    arrow: ArrowMetrics | None,
) -> Any:
    def load() -> SourceRun:
        return read_run(db, path, row, experiment, arrow)

    return load


def read_run(
    db: sqlite3.Connection,
    path: Path,
    row: tuple[Any, ...],
    experiment: str,
    arrow: ArrowMetrics | None = None,
) -> SourceRun:
    run_uuid = row[0]
    params = dict(db.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_uuid,)))
    tags = dict(db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_uuid,)))
    run = mlflow_common.build(
        source_id=str(run_uuid),
        experiment=experiment,
        name=row[1] or None,
        status_name=str(row[3] or "FINISHED"),
        start_ms=row[4],
        end_ms=row[5] if isinstance(row[5], int) else None,
        user=row[2] or None,
        params={str(k): "" if v is None else str(v) for k, v in params.items()},
        tags={str(k): "" if v is None else str(v) for k, v in tags.items()},
        uri=f"sqlite:///{path}",
    )
    found = arrow.read(str(run_uuid)) if arrow is not None else None
    run.metrics = found if found is not None else read_metrics(db, run_uuid)
    if row[7]:
        # A relative artifact root is MLflow's default (`./mlruns`, from where it ran): taken
        # here from the database's folder.
        try:
            run.artifacts = str(artifacts.local_folder(str(row[7]), path.parent))
        except ValueError:
            run.artifacts = str(row[7])  # not local, or refused: said if --artifacts asks
    return run


def read_metrics(db: sqlite3.Connection, run_uuid: str) -> dict[str, Points]:
    """The run's points in one query on its run_uuid index, unordered (the writer sorts each
    key's points by step and time); NaN comes back as NULL, which numpy turns into NaN.
    Making the rows' Python objects is what costs: the columns are few and go to numpy."""
    rows = db.execute(
        "SELECT key, step, timestamp, CASE WHEN is_nan THEN NULL ELSE value END "
        "FROM metrics WHERE run_uuid = ?",
        (run_uuid,),
    ).fetchall()
    if not rows:
        return {}
    keys, steps, times, values = zip(*rows, strict=True)
    n = len(rows)
    ids: dict[str, int] = {}
    for key in set(keys):
        ids[key] = len(ids)
    key_idx = np.fromiter(map(ids.__getitem__, keys), dtype=np.int64, count=n)
    step = np.fromiter(steps, dtype=np.int64, count=n)
    time_us = np.fromiter(times, dtype=np.int64, count=n) * 1000
    value = np.array(values, dtype=np.float64)
    value[value == _FLOAT_MAX] = np.inf
    value[value == -_FLOAT_MAX] = -np.inf
    order = np.argsort(key_idx, kind="stable")
    bounds = np.searchsorted(key_idx[order], np.arange(len(ids) + 1))
    out: dict[str, Points] = {}
    for key, i in sorted(ids.items()):
        sel = order[bounds[i] : bounds[i + 1]]
        out[str(key)] = Points(step=step[sel], time_us=time_us[sel], value=value[sel])
    return out
