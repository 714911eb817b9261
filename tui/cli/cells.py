"""One value as one cell: exact text for data formats, short inert text for people.

Data formats (CSV, JSON) keep every float exactly (shortest round-trip repr). Text meant
for a terminal or a Markdown page goes through `tui.safe_text.clean`, so markup and
escape sequences in run names and params stay inert. Spreadsheet formulas are defused
in both: a text cell starting with = + - @ tab or CR gets a leading apostrophe (OWASP).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import polars as pl

from mmtop.tui.formatting import fmt_duration, fmt_float
from mmtop.tui.safe_text import CONTROL_PATTERN_PL, clean, json_inert

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Text that a spreadsheet reads as a plain number is harmless and stays as it is.
NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Rust-regex twins of the two rules above, for vectorised polars expressions.
FORMULA_START_PL = r"^[=+\-@\t\r]"
NUMBER_PL = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
# Inline Markdown syntax (CommonMark + GitHub: tables, math, strikethrough, HTML, entities).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$])")


def csv_text(text: str) -> str:
    """One CSV text cell, the rule of `csv_out` for a single value: inert, formula defused."""
    return defuse_formula(clean(text))


def defuse_formula(text: str) -> str:
    """Prefix text that a spreadsheet would run as a formula (OWASP CSV injection)."""
    if text.startswith(FORMULA_START) and not NUMBER_RE.fullmatch(text):
        return "'" + text
    return text


def iso_time(value: dt.datetime) -> str:
    """ISO 8601 with microseconds and offset: what Python and polars read back exactly."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="microseconds")


def json_value(value: Any) -> Any:
    """A JSON-ready value: datetimes as ISO text; floats stay floats (json writes repr)."""
    if isinstance(value, dt.datetime):
        return iso_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value


def json_dumps(value: Any) -> str:
    # NaN/Infinity are written as Python's json does (and reads back): metrics keep them.
    # Control and bidi characters become \uXXXX escapes: the same string, inert bytes.
    return json_inert(json.dumps(json_value(value), ensure_ascii=False, allow_nan=True))


def human(value: Any, column: str = "", digits: int = 6) -> str:
    """Short, single-line, inert text for a terminal table or Markdown cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if column == "duration_s":
            return fmt_duration(value)
        return fmt_float(value, digits)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return str(value.strftime("%Y-%m-%d %H:%M:%S"))
    if isinstance(value, (list, tuple)):
        return ", ".join(human(v, digits=digits) for v in value)
    if isinstance(value, dict):
        return clean(json_dumps(value), single_line=True)
    return clean(value, single_line=True)


def is_numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def md_cell(value: Any, column: str = "", digits: int = 6) -> str:
    """A Markdown table cell: inline syntax escaped, newlines as <br>, formulas defused."""
    if isinstance(value, str):
        text = clean(value).replace("\n", "\0")
        text = _MD_SPECIAL.sub(r"\\\1", defuse_formula(text)).replace("\0", "<br>")
        return text
    text = human(value, column, digits)
    return text if is_numeric(value) else _MD_SPECIAL.sub(r"\\\1", defuse_formula(text))


# Characters `clean` would change: text without them is shown as it is, unchanged.
_NEEDS_CLEAN_PL = r"[\t\n]|" + CONTROL_PATTERN_PL


def column_text(series: pl.Series, digits: int = 6, *, markdown: bool = False) -> list[str]:
    """A whole column as cell text, like `human` / `md_cell` per value but column-wise.

    Works by dtype so that 10k-row tables render in milliseconds: numbers through one
    format call each, datetimes and clean text through polars, only unusual text in Python.
    """
    dtype = series.dtype
    values = series.to_list() if not isinstance(dtype, (pl.Datetime, pl.String)) else None
    if dtype in (pl.Float64, pl.Float32):
        assert values is not None
        if series.name == "duration_s":
            return ["" if v is None else fmt_duration(v) for v in values]
        return ["" if v is None else fmt_float(v, digits) for v in values]
    if dtype.is_integer():
        assert values is not None
        return ["" if v is None else str(v) for v in values]
    if isinstance(dtype, pl.Datetime):
        utc = series.dt.convert_time_zone("UTC") if dtype.time_zone else series
        return utc.dt.to_string("%Y-%m-%d %H:%M:%S").fill_null("").to_list()
    if dtype == pl.String:
        texts = series.fill_null("")
        odd = texts.str.contains(_NEEDS_CLEAN_PL)
        plain = texts.to_list()
        if markdown:
            return [md_cell(t) if t else "" for t in plain]
        if not odd.any():
            return plain
        return [clean(t, single_line=True) if o else t for t, o in zip(plain, odd, strict=True)]
    assert values is not None
    if markdown:
        return [md_cell(v, series.name, digits) for v in values]
    return [human(v, series.name, digits) for v in values]
