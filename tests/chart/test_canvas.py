"""The braille rasteriser: dots, lines, gaps, clipping, layers, bands."""

from __future__ import annotations

import math

import numpy as np

from mmtop.tui.charting.canvas import BrailleCanvas, Kind

NAN = math.nan


def text(canvas: BrailleCanvas, **kwargs: object) -> list[str]:
    return ["".join(t for t, _ in row) for row in canvas.rows(**kwargs)]  # type: ignore[arg-type]


def test_dots_follow_the_unicode_braille_numbering() -> None:
    c = BrailleCanvas(2, 1)
    c.plot_line([0, 3], [0, 0], "a")  # top row of both cells
    assert text(c) == ["⠉⠉"]
    c = BrailleCanvas(1, 1)
    c.plot_line([0, 0], [0, 3], "a")  # left column, all four rows
    assert text(c) == ["⡇"]
    c = BrailleCanvas(1, 1)
    c.plot_line([1], [3], "a")  # bottom right dot alone
    assert text(c) == ["⢀"]


def test_diagonal_line_has_no_holes() -> None:
    c = BrailleCanvas(2, 1)
    c.plot_line([0, 3], [3, 0], "a")
    assert text(c) == ["⡠⠊"]


def test_non_finite_points_are_gaps_and_isolated_points_are_dots() -> None:
    c = BrailleCanvas(4, 1)
    c.plot_line([0, 1, NAN, 6, 7], [0, 0, NAN, 0, 0], "a")
    assert text(c) == ["⠉  ⠉"]
    c = BrailleCanvas(3, 1)
    c.plot_line([0, 2, 5], [0, 0, 0], "a")
    c2 = BrailleCanvas(3, 1)
    c2.plot_line([0, 2, 5], [0, math.inf, 0], "a")
    assert text(c) == ["⠉⠉⠉"]
    assert text(c2) == ["⠁ ⠈"]


def test_segments_are_clipped_to_the_canvas() -> None:
    c = BrailleCanvas(2, 1)
    c.plot_line([-1e12, 1e12], [2, 2], "a")  # would be 2e12 pixels long unclipped
    assert text(c) == ["⠤⠤"]
    c = BrailleCanvas(2, 1)
    c.plot_line([0, 3], [-5e9, -1e9], "a")  # wholly above the canvas
    assert text(c) == ["  "]


def test_lines_win_cells_over_faint_and_later_series_over_earlier() -> None:
    c = BrailleCanvas(2, 1)
    c.plot_line([0, 3], [3, 3], "raw", Kind.FAINT)
    c.plot_line([0, 1], [0, 0], "first")
    c.plot_line([0, 1], [1, 1], "second")
    rows = c.rows()
    # Cell 0: the two lines merge their dots (faint dots dropped), coloured by the later one.
    assert rows == [[("⠛", "second"), ("⣀", "raw")]]


def test_fill_between_is_a_checkerboard_under_lines() -> None:
    c = BrailleCanvas(1, 1)
    c.fill_between([0, 1], [3, 3], [0, 0], "band")
    assert c.rows() == [[("⢕", "band")]]
    c.plot_line([0, 1], [0, 0], "line")
    assert c.rows() == [[("⠉", "line")]]


def test_fill_between_interpolates_and_leaves_gaps() -> None:
    c = BrailleCanvas(4, 1)
    c.fill_between([0, 7], [3, 3], [0, 0], "band")
    assert text(c) == ["⢕⢕⢕⢕"]  # every column between the two points
    c = BrailleCanvas(4, 1)
    # The middle point is a gap: only the columns of the finite points are shaded.
    c.fill_between([0, 3.5, 7], [3, NAN, 3], [0, NAN, 0], "band")
    shown, owner = c.cells()
    assert owner.tolist() == [[0, -1, -1, 0]]
    assert shown.tolist() == [[0x01 | 0x04, 0, 0, 0x10 | 0x80]]


def test_rows_runs_and_cursor_column() -> None:
    c = BrailleCanvas(4, 2)
    c.plot_line([0, 1], [0, 0], "a")
    assert c.rows(cursor_col=2, cursor_style="cur") == [
        [("⠉", "a"), (" ", None), ("┊", "cur"), (" ", None)],
        [("  ", None), ("┊", "cur"), (" ", None)],
    ]
    empty = BrailleCanvas(0, 0)
    empty.plot_line([0, 1], [0, 1], "a")
    assert empty.rows() == []
    assert np.asarray(empty.cells()[0]).shape == (0, 0)
