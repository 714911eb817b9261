"""Numbers, durations and file sizes have one spelling, shared by `mmtop` commands, the app
and chart labels."""

from __future__ import annotations

import math

import polars as pl

from mmtop.tui.charting.ticks import format_number
from mmtop.tui.cli import cells
from mmtop.tui.formatting import fmt_bytes, fmt_duration, fmt_float, fmt_number

DURATIONS = [
    (None, ""),
    (math.nan, ""),
    (math.inf, ""),
    (-3.0, ""),  # a clock stepped back: unknown, not zero
    (0.0, "0s"),
    (0.004, "0s"),
    (0.25, "0.25s"),
    (1.0, "1s"),
    (59.7, "59s"),  # cut, never rounded up to a 60s that reads like a minute
    (125.0, "2m05s"),
    (3700.0, "1h01m"),
    (90000.0, "1d01h"),
]


def test_a_duration_reads_the_same_in_the_app_and_the_cli() -> None:
    want = [text for _, text in DURATIONS]
    assert [fmt_duration(v) for v in (v for v, _ in DURATIONS)] == want
    assert [cells.human(v, "duration_s") for v, _ in DURATIONS] == want
    column = pl.Series("duration_s", [v for v, _ in DURATIONS], dtype=pl.Float64)
    # polars keeps NaN apart from null: both print as nothing.
    assert cells.column_text(column) == want


def test_a_file_size_is_in_binary_units() -> None:
    sizes = [0, 1023, 1024, 2048, 1536 * 1024, 5 * 1024**3, 3 * 1024**4]
    assert [fmt_bytes(n) for n in sizes] == [
        "0 B", "1023 B", "1.0 KiB", "2.0 KiB", "1.5 MiB", "5.0 GiB", "3.0 TiB",
    ]  # fmt: skip
    assert fmt_bytes(None) == ""


FLOATS = [
    (math.nan, "nan"),
    (math.inf, "inf"),
    (-math.inf, "-inf"),
    (0.0, "0"),
    (-0.0, "0"),  # the CLI printed "-0" where the app printed "0"
    (0.5, "0.5"),
    (1 / 3, "0.333333"),
    (-1234567.0, "-1.23457e+06"),
]


def test_a_float_reads_the_same_in_the_app_the_cli_and_on_a_chart() -> None:
    want = [text for _, text in FLOATS]
    values = [v for v, _ in FLOATS]
    assert [fmt_float(v) for v in values] == want
    assert [cells.human(v) for v in values] == want
    assert cells.column_text(pl.Series("m", values, dtype=pl.Float64)) == want
    # The app's cells keep 4 digits, chart labels 3 and their own suffixes; NaN, the
    # infinities and zero read the same everywhere.
    assert [fmt_number(v) for v in values[:5]] == want[:5]
    assert [format_number(v) for v in values[:5]] == want[:5]
    assert fmt_number(1 / 3) == fmt_float(1 / 3, 4) == "0.3333"
