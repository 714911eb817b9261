"""`e`: the visible runs table (its columns, filter and sort) as CSV.

Raw values, not their on-screen formatting: a CSV is read by programs, so numbers keep
their precision and times are ISO 8601. Lists become `;`-joined text.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

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
    fixes: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List):
            inner = pl.col(name).list.eval(pl.element().cast(pl.String, strict=False))
            fixes.append(inner.list.join(";").alias(name))
        elif isinstance(dtype, (pl.Struct, pl.Array, pl.Object)):
            fixes.append(pl.col(name).cast(pl.String, strict=False).alias(name))
    if fixes:
        frame = frame.with_columns(fixes)
    return frame


def write_csv(frame: pl.DataFrame, path: str | Path) -> int:
    """Write atomically (temp file, then rename) so a half-written CSV never appears."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder; give a file name")
    tmp = target.with_name(f".{target.name}.tmp")
    frame.write_csv(tmp)
    tmp.replace(target)
    return frame.height
