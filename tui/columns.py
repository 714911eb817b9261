"""Which columns the runs table shows, how wide, and what each one holds.

Pure polars, no Textual. Works on the flat runs frame (tui/flat.py, shared with the CLI):
one column per leaf (`params.model.kind`, `metrics.val/acc`), so that the table, sorting and
export can treat every column alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

import polars as pl

from mmtop.tui.column_rule import LEAD, TRAIL, default_columns, metric_order
from mmtop.tui.formatting import fmt_number

# Columns the table can show beside params and metrics (column_rule orders them all).
CORE_COLUMNS: tuple[str, ...] = (*LEAD, *TRAIL)
CORE_LABELS = {
    "status": "",
    "name": "name",
    "experiment": "experiment",
    "created": "age",
    "duration_s": "duration",
    "last_step": "step",
    "tags": "tags",
}
# Caps keep one long name from pushing every metric off screen; cells end in an ellipsis.
MAX_WIDTH = {"name": 32, "experiment": 18, "tags": 20}
TEXT_PARAM_MAX = 20
METRIC_PREFIXES = ("metrics.", "metrics_min.", "metrics_max.")
AGG_PREFIX = {"last": "metrics.", "min": "metrics_min.", "max": "metrics_max."}


@dataclass(frozen=True)
class Column:
    key: str  # column of the flat frame
    label: str
    kind: str  # status | text | tags | age | duration | int | number | value
    width: int
    right: bool = False


@dataclass(frozen=True)
class ColumnChoice:
    """What the user asked for with `C`: automatic, or a regex kept/dropped, or a list."""

    mode: str = "auto"  # auto | keep | drop | explicit
    pattern: str = ""
    explicit: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.mode in ("keep", "drop"):
            return f"{self.mode} /{self.pattern}/"
        if self.mode == "explicit":
            return f"{len(self.explicit)} chosen"
        return "auto"


def param_keys(flat: pl.DataFrame) -> list[str]:
    return [c for c in flat.columns if c.startswith("params.")]


def metric_keys(flat: pl.DataFrame) -> list[str]:
    """Metric names (without prefix) that have a last value column."""
    return [c[len("metrics.") :] for c in flat.columns if c.startswith("metrics.")]


def candidates(flat: pl.DataFrame) -> list[str]:
    """Every column the table can show, in display order."""
    names = flat.columns
    return [
        *(c for c in LEAD if c in names),
        *(f"metrics.{k}" for k in metric_keys(flat)),
        *param_keys(flat),
        *(c for c in TRAIL if c in names),
    ]


def choose(
    flat: pl.DataFrame, shown: pl.DataFrame, choice: ColumnChoice, first: tuple[str, ...] = ()
) -> list[str]:
    """Column keys to display for the rows in `shown` under the user's choice; `first`
    names the column the table is sorted by (a metric there leads the metrics)."""
    if choice.mode == "explicit":
        every = set(candidates(flat))
        return [k for k in choice.explicit if k in every]
    if choice.mode == "keep":
        rx = _regex(choice.pattern)
        picked = [k for k in candidates(flat) if k not in LEAD and rx.search(k)]
        metrics = metric_order(flat, [k for k in picked if k.startswith("metrics.")], first)
        rest = [k for k in picked if not k.startswith("metrics.")]
        return [k for k in LEAD if k in flat.columns] + metrics + rest
    auto = default_columns(shown.select(candidates(flat)), first=first)
    if choice.mode == "drop":
        rx = _regex(choice.pattern)
        return [k for k in auto if k in LEAD or not rx.search(k)]
    return auto


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(pattern), re.IGNORECASE)


def valid_regex(pattern: str) -> str | None:
    """None when `pattern` compiles, else the error message."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


def label(key: str) -> str:
    if key in CORE_LABELS:
        return CORE_LABELS[key]
    for prefix in ("params.", *METRIC_PREFIXES):
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def kind_of(key: str, dtype: pl.DataType) -> str:
    if key == "status":
        return "status"
    if key == "created":
        return "age"
    if key == "duration_s":
        return "duration"
    if key == "tags":
        return "tags"
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "number"
    if dtype == pl.String or dtype == pl.Categorical:
        return "text"
    return "value"


def measure(flat: pl.DataFrame, key: str) -> Column:
    """A column spec with a width that fits the whole frame, so filtering never jumps widths."""
    series = flat.get_column(key)
    kind = kind_of(key, series.dtype)
    head = label(key)
    right = kind in ("int", "number", "age", "duration")
    if kind == "status":
        width = 1
    elif kind == "age":
        width = 4
    elif kind == "duration":
        width = 6
    elif kind == "tags":
        longest = series.list.join(",").str.len_chars().max() if len(series) else 0
        width = min(int(cast(int, longest or 0)), MAX_WIDTH["tags"])
    elif kind == "text":
        longest = series.cast(pl.String).str.len_chars().max() if len(series) else 0
        cap = MAX_WIDTH.get(key, TEXT_PARAM_MAX)
        width = min(int(cast(int, longest or 0)), cap)
    elif kind in ("int", "number"):
        width = _numeric_width(series)
    else:
        width = TEXT_PARAM_MAX
    return Column(key, head, kind, max(width, len(head), 1), right)


def _numeric_width(series: pl.Series) -> int:
    """Widest formatted value among extremes and a strided sample: exact enough, O(1) cost."""
    values = series.drop_nulls()
    if len(values) == 0:
        return 1
    stride = max(1, len(values) // 256)
    sample = values.gather_every(stride).to_list()
    extremes = [values.min(), values.max()]
    return max(len(fmt_number(v)) for v in sample + extremes)
