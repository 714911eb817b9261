"""`e`: the visible runs table (its columns, filter and sort) as CSV.

Raw values, not their on-screen formatting, written by the CLI's own CSV writer
(`tui/csv_out.py`) through the CLI's atomic output: `mmtop ls -f csv` with the same columns
and order gives the same bytes, formulas defused and control characters made visible.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from mmtop.tui import csv_out
from mmtop.tui.columns import Column
from mmtop.tui.runs_view import RunsModel, View


def export_frame(
    model: RunsModel, view: View, columns: list[Column], only: set[str] | None = None
) -> pl.DataFrame:
    """The table as shown; with `only`, just those runs (the marked ones), still in order."""
    keys = ["run_id"] + [c.key for c in columns if c.key != "run_id"]
    frame = model.flat.select([pl.col(k).gather(view.order) for k in dict.fromkeys(keys)])
    if only:
        frame = frame.filter(pl.col("run_id").is_in(list(only)))
    return frame


def write_csv(frame: pl.DataFrame, path: str | Path) -> int:
    """Write atomically (temp file, then rename; the temp file goes on failure)."""
    from mmtop.tui.cli.common import output

    # Absolute, so that a file named `-` is a file, not stdout.
    target = os.path.abspath(Path(path).expanduser())
    with output(target) as out:
        csv_out.write_csv(frame, out)
    return frame.height
