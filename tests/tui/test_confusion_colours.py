"""The confusion heatmap: mistakes are visibly red (also after a 256-colour terminal rounds
them), correct answers blue, and the legend's swatches are the colours drawn."""

from __future__ import annotations

import pytest
from rich.color import Color, ColorSystem
from rich.style import Style
from rich.table import Table
from rich.text import Text

from mmtop.tui.confusion import Confusion
from mmtop.tui.widgets.confusion_heatmap import heatmap

# 1000 right answers a class and a few mistakes: relative to the diagonal they are tiny.
CM = Confusion(["a", "b", "c"], [[1000, 1, 0], [3, 990, 12], [0, 2, 1005]])


def cell_styles(cm: Confusion) -> dict[tuple[int, int], Style]:
    grid = heatmap(cm).renderables[1]  # type: ignore[attr-defined]
    assert isinstance(grid, Table)
    out = {}
    for j, column in enumerate(grid.columns[1 : 1 + len(cm.labels)]):
        for i, cell in enumerate(column.cells):
            assert isinstance(cell, Text)
            out[(i, j)] = (
                Style.parse(str(cell.style)) if isinstance(cell.style, str) else cell.style
            )
    return out


def rgb(color: Color | None, system: ColorSystem) -> tuple[int, int, int]:
    assert color is not None
    shown = color.downgrade(system)
    r, g, b = shown.get_truecolor()
    return r, g, b


@pytest.mark.parametrize("system", [ColorSystem.TRUECOLOR, ColorSystem.EIGHT_BIT])
def test_mistakes_red_correct_blue(system: ColorSystem) -> None:
    styles = cell_styles(CM)
    for (i, j), style in styles.items():
        if CM.counts[i][j] == 0:
            continue
        r, g, b = rgb(style.bgcolor, system)
        if i == j:
            assert b > 120 and b > r + 60, (i, j, (r, g, b))
        else:
            assert r > 120 and r > 2 * max(g, b), (i, j, (r, g, b))


def test_legend_swatches_are_the_drawn_colours() -> None:
    styles = cell_styles(CM)
    foot = heatmap(CM).renderables[2]  # type: ignore[attr-defined]
    swatches = [span.style for span in foot.spans if foot.plain[span.start : span.end] == " ■ "]
    assert [Style.parse(s) if isinstance(s, str) else s for s in swatches] == [
        styles[(2, 2)],  # the largest correct count
        styles[(1, 2)],  # the largest mistake
    ]
    assert "correct" in foot.plain and "mistakes" in foot.plain
