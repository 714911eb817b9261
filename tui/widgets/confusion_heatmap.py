"""A confusion matrix as a heatmap grid with labels and per-class precision/recall."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.color import Color
from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from mmtop.tui.formatting import fmt_number
from mmtop.tui.safe_text import safe

if TYPE_CHECKING:
    from mmtop.store.tables import ConfusionMatrix

# Each ramp starts at a colour that is already plainly blue or red, so one mistake among a
# thousand correct answers still reads as red; both ends stay red (blue) once a 256-colour
# terminal rounds them to its palette.
_CORRECT = ((20, 50, 135), (60, 130, 250))
_MISTAKE = ((150, 0, 0), (240, 40, 40))
_TEXT = Color.from_rgb(240, 240, 240)


def _shade(value: int, peak: int, diagonal: bool) -> Style:
    """A cell's colour: blue for correct answers, red for mistakes, brighter with the count
    (relative to the largest count of its own kind, so that mistakes are not all faint)."""
    if peak <= 0 or value == 0:
        return Style(dim=True)
    f = min(1.0, value / peak)
    lo, hi = _CORRECT if diagonal else _MISTAKE
    rgb = tuple(int(a + (b - a) * f) for a, b in zip(lo, hi, strict=True))
    return Style(bgcolor=Color.from_rgb(*rgb), color=_TEXT, bold=diagonal)


def legend() -> Text:
    """What the colours mean, each swatch drawn as the matrix's largest cell of its kind."""
    text = Text()
    text.append(" ■ ", style=_shade(1, 1, True))
    text.append(" correct (diagonal)  ", style="dim")
    text.append(" ■ ", style=_shade(1, 1, False))
    text.append(" mistakes (off-diagonal)", style="dim")
    return text


def _pct(value: float) -> str:
    """NaN (a class never predicted, never true, or an empty matrix) shows as nothing."""
    return "" if math.isnan(value) else f"{value * 100:.1f}%"


def heatmap(cm: ConfusionMatrix, title: str = "") -> RenderableType:
    grid = Table(box=None, pad_edge=False, padding=(0, 1), show_edge=False)
    grid.add_column(Text("true \\ pred", style="dim"), no_wrap=True)
    for label in cm.labels:
        grid.add_column(safe(label, "bold", single_line=True), justify="right", no_wrap=True)
    grid.add_column(Text("precision", style="bold"), justify="right", min_width=9, no_wrap=True)
    grid.add_column(Text("recall", style="bold"), justify="right", min_width=6, no_wrap=True)
    grid.add_column(Text("n", style="dim"), justify="right", no_wrap=True)
    n = len(cm.labels)
    right = max((cm.matrix[i][i] for i in range(n)), default=0)
    wrong = max((v for i in range(n) for j, v in enumerate(cm.matrix[i]) if i != j), default=0)
    precision, recall = cm.precision(), cm.recall()
    for i, label in enumerate(cm.labels):
        cells: list[Text] = [safe(label, "bold", single_line=True)]
        for j, value in enumerate(cm.matrix[i]):
            diagonal = i == j
            cells.append(
                Text(str(value), style=_shade(value, right if diagonal else wrong, diagonal))
            )
        cells.append(Text(_pct(precision[label])))
        cells.append(Text(_pct(recall[label])))
        cells.append(Text(str(sum(cm.matrix[i])), style="dim"))
        grid.add_row(*cells)
    head = safe(title, "bold underline", single_line=True) if title else Text()
    foot = Text(
        f"accuracy {_pct(cm.accuracy())} of {fmt_number(sum(map(sum, cm.matrix)))}  ", style="dim"
    )
    foot.append_text(legend())
    return Group(head, grid, foot)


class ConfusionHeatmap(Static):
    DEFAULT_CSS = "ConfusionHeatmap { height: auto; padding: 0 1; }"

    def show(self, cm: ConfusionMatrix, title: str = "") -> None:
        self.update(heatmap(cm, title))
