"""The metrics of an MLflow SQLite store as Arrow columns, run by run, with Apache Arrow's ADBC
SQLite driver (`pip install 'mmtop[mlflow]'`).

Reading rows through the sqlite3 module makes a Python tuple per point, which caps an import
near the speed of that loop. The driver hands over column batches instead: one query per run, on
MLflow's `run_uuid` index, and the points go to numpy without a Python object per value.
Without the driver, `mlflow_sqlite` reads each run with sqlite3.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .model import Points

QUERY = "SELECT key, step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ?"
_FLOAT_MAX = np.finfo(np.float64).max


def available() -> bool:
    try:
        import adbc_driver_sqlite.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


class ArrowMetrics:
    """Reads one run's points at a time as Arrow columns, on one connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: Any = None
        self._lock = threading.Lock()  # runs are read in one thread; this keeps it so

    def read(self, run_uuid: str) -> dict[str, Points] | None:
        """The run's points by key; None when the driver cannot read them (the caller then
        reads them with sqlite3): SQLite's columns may hold any type, and a column whose
        values the driver cannot type as one Arrow type is refused."""
        from adbc_driver_manager import Error

        with self._lock:
            try:
                if self._conn is None:
                    import adbc_driver_sqlite.dbapi as adbc

                    uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
                    self._conn = adbc.connect(uri)
                # A cursor per run, closed at once: the connection then never outlives an
                # open statement, which the driver refuses when the connection is collected.
                with self._conn.cursor() as cursor:
                    cursor.execute(QUERY, (run_uuid,))
                    table = cursor.fetch_arrow_table()
            except (Error, pa.ArrowException):
                return None
        if table.num_rows and not _exact(table):
            return None
        return split(table)


# What each column must come back as. The driver types a column by its values, and one that
# holds mixed types (a text value in MLflow's REAL column) comes back as text, numbers
# printed with 7 digits: such a run is read with sqlite3, which keeps every value as stored.
_TYPES = (pa.string(), pa.int64(), pa.int64(), pa.float64(), pa.int64())


def _exact(table: pa.Table) -> bool:
    return all(
        column.type == kind and (i == 3 or column.null_count == 0)
        for i, (column, kind) in enumerate(zip(table.columns, _TYPES, strict=True))
    )


def split(table: pa.Table) -> dict[str, Points]:
    """One run's rows as points per key, unordered within a key (the writer sorts)."""
    if table.num_rows == 0:
        return {}
    table = table.combine_chunks()
    keys = pc.dictionary_encode(table.column(0)).combine_chunks()
    key_idx = keys.indices.to_numpy()
    names = keys.dictionary.to_pylist()
    step = _ints(table.column(1))
    time_us = _ints(table.column(2)) * 1000
    value = table.column(3).to_numpy().astype(np.float64, copy=True)
    value[_ints(table.column(4)) != 0] = np.nan
    # MLflow stores +-inf as +-float max (SQL has no infinity); read back as what was logged.
    value[value == _FLOAT_MAX] = np.inf
    value[value == -_FLOAT_MAX] = -np.inf
    order = np.argsort(key_idx, kind="stable")
    bounds = np.searchsorted(key_idx[order], np.arange(len(names) + 1))
    out: dict[str, Points] = {}
    for i, key in sorted(enumerate(names), key=lambda item: str(item[1])):
        sel = order[bounds[i] : bounds[i + 1]]
        out[str(key)] = Points(step=step[sel], time_us=time_us[sel], value=value[sel])
    return out


def _ints(column: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.int64]]:
    out: np.ndarray[Any, np.dtype[np.int64]] = np.asarray(column.to_numpy(), dtype=np.int64)
    return out
