"""A confusion matrix as a heatmap grid with labels and per-class precision/recall."""

from __future__ import annotations

from rich.color import Color
from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from mmtop.tui.confusion import Confusion
from mmtop.tui.formatting import fmt_number
from mmtop.tui.safe_text import safe

_LOW = (30, 34, 50)
_HIGH = (47, 129, 247)
_WRONG = (210, 80, 60)


def _shade(value: int, peak: int, diagonal: bool) -> Style:
    if peak <= 0 or value == 0:
        return Style(dim=True)
    f = value / peak
    top = _HIGH if diagonal else _WRONG
    rgb = tuple(int(lo + (hi - lo) * f) for lo, hi in zip(_LOW, top, strict=True))
    fg = Color.from_rgb(0, 0, 0) if f > 0.6 else Color.from_rgb(235, 235, 235)
    return Style(bgcolor=Color.from_rgb(*rgb), color=fg, bold=diagonal)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def heatmap(cm: Confusion, title: str = "") -> RenderableType:
    grid = Table(box=None, pad_edge=False, padding=(0, 1), show_edge=False)
    grid.add_column(Text("true \\ pred", style="dim"), no_wrap=True)
    for label in cm.labels:
        grid.add_column(safe(label, "bold", single_line=True), justify="right", no_wrap=True)
    grid.add_column(Text("precision", style="bold"), justify="right", min_width=9, no_wrap=True)
    grid.add_column(Text("recall", style="bold"), justify="right", min_width=6, no_wrap=True)
    grid.add_column(Text("n", style="dim"), justify="right", no_wrap=True)
    peak = cm.peak
    for i, label in enumerate(cm.labels):
        cells: list[Text] = [safe(label, "bold", single_line=True)]
        for j, value in enumerate(cm.counts[i]):
            cells.append(Text(str(value), style=_shade(value, peak, i == j)))
        cells.append(Text(_pct(cm.precision(i))))
        cells.append(Text(_pct(cm.recall(i))))
        cells.append(Text(str(sum(cm.counts[i])), style="dim"))
        grid.add_row(*cells)
    head = safe(title, "bold underline", single_line=True) if title else Text()
    foot = Text(
        f"accuracy {_pct(cm.accuracy())} of {fmt_number(cm.total)}"
        "  · diagonal = correct (blue), off-diagonal = mistakes (red)",
        style="dim",
    )
    return Group(head, grid, foot)


class ConfusionHeatmap(Static):
    DEFAULT_CSS = "ConfusionHeatmap { height: auto; padding: 0 1; }"

    def show(self, cm: Confusion, title: str = "") -> None:
        self.update(heatmap(cm, title))
