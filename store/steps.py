"""Steps: int64 on disk, checked where a script passes one, and the last one a run holds."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from . import paths
from .parts import list_parts
from .records import read_summaries

MAX_STEP = 2**63 - 1  # steps are int64 on disk


def step_error(step: int, what: str = "step") -> str:
    return f"{what} must be an integer from 0 to 2**63-1 (int64), got {step}"


def check_step(step: Any) -> int:
    if isinstance(step, bool):
        raise TypeError("step must be an integer, got bool")
    try:
        value = int(step.__index__())
    except AttributeError:
        if isinstance(step, float) and math.isfinite(step) and step == int(step):
            value = int(step)
        else:
            raise TypeError(f"step must be an integer, got {step!r}") from None
    if not 0 <= value <= MAX_STEP:
        raise ValueError(step_error(value))
    return value


def _last_summary_step(folder: Path) -> int:
    last = -1
    for stats in read_summaries(folder, [])[0].values():
        last = max(last, int(stats["last_step"]))
    return last


def last_step(folder: Path) -> int:
    """The largest step logged in a run, from its summaries and its parts' Parquet statistics.

    The summaries alone are not enough: a writer killed between writing a part and rewriting
    its summary leaves steps that only the parts know about.
    """
    last = _last_summary_step(folder)  # still knows the steps of parts that became unreadable
    for part in list_parts(folder / paths.METRICS_DIR):
        try:
            meta = pq.read_metadata(part.path)
            column = meta.schema.to_arrow_schema().get_field_index("step")
            for i in range(meta.num_row_groups):
                stats = meta.row_group(i).column(column).statistics
                if stats is not None and stats.has_min_max:
                    last = max(last, int(stats.max))
                else:
                    steps = pq.read_table(part.path, columns=["step"]).column("step")
                    last = max([last, *steps.to_pylist()])
                    break
        except (OSError, pa.ArrowException):
            continue
    return last
