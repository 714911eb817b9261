"""The compare screen's Sweep tab: a scatter of one param against one metric's last value,
a dot per run in the run's colour, and the metric's mean per param value below it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget

from mmtop.tui.charting.ticks import log_ticks, nice_ticks, number_labels, place_labels
from mmtop.tui.compare_data import CompareData
from mmtop.tui.formatting import fmt_number
from mmtop.tui.safe_text import safe
from mmtop.tui.sweep import Point, by_value, categories, points, sweep_metrics, sweep_params

DOT = "●"
MAX_SUMMARY = 6
LOG_RATIO = 20.0  # positive x values spanning this ratio or more go on a log axis


class SweepPlot(Widget, can_focus=True):
    BINDINGS = [
        Binding("p", "param(1)", "Next param", id="sweep.next_param"),
        Binding("P", "param(-1)", "Previous param", show=False, id="sweep.previous_param"),
        Binding("m", "metric(1)", "Next metric", id="sweep.next_metric"),
        Binding("M", "metric(-1)", "Previous metric", show=False, id="sweep.previous_metric"),
    ]
    DEFAULT_CSS = "SweepPlot { height: 1fr; padding: 0 1; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.data: CompareData | None = None
        self.colours: dict[str, str] = {}
        self.params: list[str] = []
        self.metrics: list[str] = []
        self.param = 0
        self.metric = 0

    def show(self, data: CompareData, colours: Mapping[str, str]) -> None:
        """The runs to plot, each in its colour; the chosen param and metric stay if they can."""
        param = self.current_param
        metric = self.current_metric
        self.data = data
        self.colours = dict(colours)
        self.params = sweep_params(data)
        self.metrics = sweep_metrics(data)
        self.param = self.params.index(param) if param in self.params else 0
        self.metric = self.metrics.index(metric) if metric in self.metrics else 0
        self.refresh()

    @property
    def current_param(self) -> str | None:
        return self.params[self.param] if self.params else None

    @property
    def current_metric(self) -> str | None:
        return self.metrics[self.metric] if self.metrics else None

    def action_param(self, step: int) -> None:
        if self.params:
            self.param = (self.param + step) % len(self.params)
            self.refresh()

    def action_metric(self, step: int) -> None:
        if self.metrics:
            self.metric = (self.metric + step) % len(self.metrics)
            self.refresh()

    def render(self) -> RenderableType:
        param, metric = self.current_param, self.current_metric
        if self.data is None:
            return Text("loading…", style="dim")
        if param is None or metric is None:
            what = "no param differs between these runs" if param is None else "no metric"
            return Text(f"{what}: nothing to plot", style="dim")
        pts = points(self.data, param, metric)
        width = max(20, self.content_size.width)
        height = max(8, self.content_size.height)
        title = Text.assemble(
            safe(metric, "bold", single_line=True),
            " (last value) against ",
            safe(param, "bold", single_line=True),
            f" · {len(pts)} runs · p/P param ({self.param + 1}/{len(self.params)})"
            f" · m/M metric ({self.metric + 1}/{len(self.metrics)})",
        )
        title.truncate(width, overflow="ellipsis")  # one line, or the plot is pushed down
        if not pts:
            return Text("\n").join([title, Text("no run has both", style="dim")])
        summary = by_value(pts)[:MAX_SUMMARY]
        plot_height = max(4, height - 3 - (len(summary) + 1))
        lines = [title, *self._scatter(pts, width, plot_height)]
        head = safe(f"mean {metric} by {param}, highest first:", "dim", single_line=True)
        head.truncate(width, overflow="ellipsis")
        lines.append(head)
        for value, mean, n in summary:
            line = Text.assemble(
                "  ",
                safe(value, single_line=True),
                f"  {fmt_number(mean)}  ({n} run{'s' if n > 1 else ''})",
            )
            line.truncate(width, overflow="ellipsis")
            lines.append(line)
        return Text("\n").join(lines)

    def _scatter(self, pts: Sequence[Point], width: int, height: int) -> list[Text]:
        ys = [p.y for p in pts]
        lo, hi = min(ys), max(ys)
        if hi == lo:
            pad = abs(lo) * 0.05 or 1.0
            lo, hi = lo - pad, hi + pad
        y_ticks = nice_ticks(lo, hi, max(3, height // 3))
        if len(y_ticks) >= 2:
            lo, hi = min(lo, y_ticks[0]), max(hi, y_ticks[-1])
        y_labels = number_labels(y_ticks)
        left = max((len(label) for label in y_labels), default=1) + 1
        plot_width = max(8, width - left - 1)
        x_pos, x_ticks, x_labels = self._x_axis(pts, plot_width)
        grid: list[list[tuple[str, str]]] = [[(" ", "")] * plot_width for _ in range(height)]
        for p, col in zip(pts, x_pos, strict=True):
            row = height - 1 - round((p.y - lo) / (hi - lo) * (height - 1))
            grid[max(0, min(height - 1, row))][col] = (DOT, self.colours.get(p.run_id, ""))
        tick_rows = {
            height - 1 - round((t - lo) / (hi - lo) * (height - 1)): label
            for t, label in zip(y_ticks, y_labels, strict=True)
        }
        out: list[Text] = []
        for r, cells in enumerate(grid):
            label = tick_rows.get(r)
            line = Text((label or "").rjust(left - 1) + (" ┤" if label else " │"), style="dim")
            line.append(" ")
            for char, style in cells:
                line.append(char, style=style)
            out.append(line)
        out.append(Text(" " * left + "└" + "─" * plot_width, style="dim"))
        labels = place_labels(x_ticks, x_labels, plot_width)
        out.append(Text(" " * (left + 1) + labels, style="dim"))
        return out

    def _x_axis(self, pts: Sequence[Point], width: int) -> tuple[list[int], list[int], list[str]]:
        """Each point's column, and the axis's tick columns and labels."""
        if any(isinstance(p.x, str) for p in pts):
            cats = categories(pts)
            spot = {
                c: min(width - 1, int((i + 0.5) * width / len(cats))) for i, c in enumerate(cats)
            }
            return [spot[str(p.x)] for p in pts], [spot[c] for c in cats], cats
        xs = [float(p.x) for p in pts]
        log = min(xs) > 0 and max(xs) / min(xs) >= LOG_RATIO
        vals = [math.log10(x) for x in xs] if log else xs
        lo, hi = min(vals), max(vals)
        if hi == lo:
            lo, hi = lo - 1, hi + 1
        margin = (hi - lo) * 0.05
        lo, hi = lo - margin, hi + margin

        def col(v: float) -> int:
            return max(0, min(width - 1, round((v - lo) / (hi - lo) * (width - 1))))

        ticks = (
            log_ticks(lo, hi, max(2, width // 12))
            if log
            else nice_ticks(lo, hi, max(2, width // 12))
        )
        shown = [10.0**t for t in ticks] if log else ticks
        return [col(v) for v in vals], [col(t) for t in ticks], number_labels(shown)
