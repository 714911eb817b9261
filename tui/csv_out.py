"""The one CSV writer: `mmtop ls/export -f csv`, `export --history`, and the app's `e`.

A CSV is data for programs and spreadsheets, and also text people `cat` and page through,
so a cell keeps its value except where that value could act: escape sequences and control
or bidi characters are made visible (`safe_text.clean`, as everywhere else), and a text cell
a spreadsheet would run as a formula gets a leading `'` (OWASP). Numbers keep their
shortest round-trip text, datetimes are ISO 8601, lists and structs are JSON text.
"""

from __future__ import annotations

from typing import IO

import polars as pl

from mmtop.tui.cli import cells
from mmtop.tui.safe_text import CONTROL_PATTERN_PL, clean

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.6f%:z"


def inert(series: pl.Series) -> pl.Series:
    """A text column with `clean` applied to the few values that need it (vectorised test)."""
    odd = series.str.contains(CONTROL_PATTERN_PL).fill_null(False)
    if not odd.any():
        return series
    where = odd.arg_true()
    return series.scatter(where, [clean(v) for v in series.gather(where).to_list()])


def defuse_expr(col: pl.Expr) -> pl.Expr:
    risky = col.str.contains(cells.FORMULA_START_PL) & ~col.str.contains(cells.NUMBER_PL)
    return pl.when(risky).then(pl.lit("'") + col).otherwise(col)


def csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns polars can write as CSV: text inert, formulas defused, lists as JSON text."""
    exprs: list[pl.Expr] = []
    texts: list[str] = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, (pl.List, pl.Array, pl.Struct)):
            encoded = pl.struct(col.alias("v")).struct.json_encode()
            # {"v":[...]} -> [...]: polars encodes JSON only for structs.
            text = encoded.str.strip_prefix('{"v":').str.strip_suffix("}")
            exprs.append(pl.when(col.is_null()).then(None).otherwise(text).alias(name))
            texts.append(name)
        elif dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum)):
            exprs.append(col.cast(pl.String))
            texts.append(name)
        elif isinstance(dtype, pl.Datetime):
            exprs.append(col.dt.to_string(ISO_FORMAT).alias(name))
        else:
            exprs.append(col)
    ready = frame.select(exprs)
    if not texts:
        return ready
    # Cleaned first: a formula hidden behind an escape sequence is still caught.
    ready = ready.with_columns(inert(ready.get_column(n)) for n in texts)
    return ready.with_columns(defuse_expr(pl.col(n)).alias(n) for n in texts)


def header(names: list[str]) -> list[str]:
    return [cells.defuse_formula(clean(n)) for n in names]


def write_csv(frame: pl.DataFrame, out: IO[bytes], *, with_header: bool = True) -> None:
    ready = csv_ready(frame)
    if with_header:
        ready = ready.rename(dict(zip(ready.columns, header(ready.columns), strict=True)))
    ready.write_csv(out, include_header=with_header, quote_style="necessary")
