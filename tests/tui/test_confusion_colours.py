"""The confusion heatmap: mistakes are visibly red (also after a 256-colour terminal rounds
them), correct answers blue, and the legend's swatches are the colours drawn."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from rich.color import Color, ColorSystem
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text

from mmtop import store
from mmtop.store.tables import ConfusionMatrix
from mmtop.tui.confusion import to_confusion
from mmtop.tui.widgets.confusion_heatmap import heatmap

# 1000 right answers a class and a few mistakes: relative to the diagonal they are tiny.
CM = ConfusionMatrix(["a", "b", "c"], [[1000, 1, 0], [3, 990, 12], [0, 2, 1005]])


def cell_styles(cm: ConfusionMatrix) -> dict[tuple[int, int], Style]:
    grid = cast(Group, heatmap(cm)).renderables[1]
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
        if CM.matrix[i][j] == 0:
            continue
        r, g, b = rgb(style.bgcolor, system)
        if i == j:
            assert b > 120 and b > r + 60, (i, j, (r, g, b))
        else:
            assert r > 120 and r > 2 * max(g, b), (i, j, (r, g, b))


def test_legend_swatches_are_the_drawn_colours() -> None:
    styles = cell_styles(CM)
    foot = cast(Text, cast(Group, heatmap(CM)).renderables[2])
    swatches = [span.style for span in foot.spans if foot.plain[span.start : span.end] == " ■ "]
    assert [Style.parse(s) if isinstance(s, str) else s for s in swatches] == [
        styles[(2, 2)],  # the largest correct count
        styles[(1, 2)],  # the largest mistake
    ]
    assert "correct" in foot.plain and "mistakes" in foot.plain


def test_the_heatmap_shows_the_stores_precision_and_recall(tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    with store.Run(experiment="e", root=root) as run:
        # "c" is never predicted and never true: its precision and recall are unknown.
        run.log_confusion_matrix(["a", "a", "b", "b"], ["a", "b", "b", "b"], labels=["a", "b", "c"])
    cm = store.open(root).run(run.run_id).confusion_matrix()
    assert to_confusion(cm) is cm
    grid = cast(Table, cast(Group, heatmap(cm)).renderables[1])
    precision, recall = ([str(c) for c in col.cells] for col in grid.columns[-3:-1])
    assert precision == ["100.0%", "66.7%", ""] and recall == ["50.0%", "100.0%", ""]
    foot = cast(Text, cast(Group, heatmap(cm)).renderables[2])
    assert foot.plain.startswith("accuracy 75.0% of 4 ")
