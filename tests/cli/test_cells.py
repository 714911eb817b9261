"""Cell escaping and exact number text: formulas, Markdown, CSV and JSON round trips."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Literal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmtop.tui import csv_out
from mmtop.tui.cli import cells, formats
from mmtop.tui.cli.frames import Flat

FORMULA_CASES = [
    ("=1+2", "'=1+2"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("-0.5", "-0.5"),
    ("+1e-3", "+1e-3"),
    ("-inf", "'-inf"),
    ("plain", "plain"),
    ("a=b", "a=b"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), FORMULA_CASES)
def test_defuse_formula(text: str, expected: str) -> None:
    assert cells.defuse_formula(text) == expected


@pytest.mark.parametrize(("text", "expected"), FORMULA_CASES)
def test_vectorised_defuse_agrees(text: str, expected: str) -> None:
    got = pl.DataFrame({"s": [text]}).select(csv_out.defuse_expr(pl.col("s"))).item()
    assert got == expected


def test_markdown_cell() -> None:
    assert cells.md_cell("a|b") == "a\\|b"
    assert cells.md_cell("x\ny") == "x<br>y"
    assert cells.md_cell("*bold* _it_ `code` <b>&amp; $x$ [l](u) ~s~") == (
        "\\*bold\\* \\_it\\_ \\`code\\` \\<b\\>\\&amp; \\$x\\$ \\[l\\](u) \\~s\\~"
    )
    assert cells.md_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert cells.md_cell("\x1b[31mred\x07") == "red\u2407"
    assert cells.md_cell(-0.5) == "-0.5"
    assert cells.md_cell(None) == ""


def test_human_text() -> None:
    assert cells.human(0.1 + 0.2) == "0.3"
    assert cells.human(math.nan) == "nan" and cells.human(-math.inf) == "-inf"
    assert cells.human(125.0, "duration_s") == "2m05s"
    assert cells.human(["a", "b"]) == "a, b"
    assert cells.human("line\nbreak\x1b]0;title\x07") == "line break"
    assert cells.human(True) == "true"


floats = st.floats(allow_nan=True, allow_infinity=True)
no_surrogates: tuple[Literal["Cs"], ...] = ("Cs",)
texts = st.text(st.characters(exclude_categories=no_surrogates), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(floats, texts), min_size=1, max_size=20))
def test_csv_round_trip_is_exact_for_numbers_and_inert_text(rows: list[tuple[float, str]]) -> None:
    frame = pl.DataFrame(
        {"value": [r[0] for r in rows], "text": [r[1] for r in rows]},
        schema={"value": pl.Float64, "text": pl.String},
    )
    buf = io.BytesIO()
    csv_out.write_csv(frame, buf)
    back = list(csv.reader(io.StringIO(buf.getvalue().decode("utf-8"), newline="")))
    assert back[0] == ["value", "text"]
    assert len(back) == len(rows) + 1
    for (value, text), (value_text, text_text) in zip(rows, back[1:], strict=True):
        parsed = float(value_text)
        assert (math.isnan(value) and math.isnan(parsed)) or parsed == value
        if math.copysign(1, value) < 0 and value == 0:
            assert math.copysign(1, parsed) < 0  # -0.0 keeps its sign
        assert text_text == cells.csv_text(text)  # inert, then defused


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(floats, texts), min_size=1, max_size=20), st.booleans())
def test_json_round_trip_is_exact(rows: list[tuple[float, str]], lines: bool) -> None:
    frame = pl.DataFrame(
        {"value": [r[0] for r in rows], "text": [r[1] for r in rows]},
        schema={"value": pl.Float64, "text": pl.String},
    )
    buf = io.BytesIO()
    formats.write_json(Flat(frame, {"value": ("value",), "text": ("text",)}), buf, lines=lines)
    raw = buf.getvalue().decode("utf-8")
    docs = [json.loads(x) for x in raw.split("\n") if x] if lines else json.loads(raw)
    for (value, text), doc in zip(rows, docs, strict=True):
        assert doc["text"] == text  # JSON is data: no formula prefix
        assert (math.isnan(value) and math.isnan(doc["value"])) or doc["value"] == value
