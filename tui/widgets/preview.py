"""Preview of the highlighted run: status, timings, key params, last metrics, sparklines.

One Static with a fixed size, updated without a layout pass: the cursor moves often and
the preview must not make every keystroke reflow the screen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from mmtop.tui.formatting import (
    STATUS_STYLES,
    fmt_age,
    fmt_duration,
    fmt_number,
    fmt_value,
    live_duration,
    status_glyph,
)
from mmtop.tui.safe_text import safe

SPARK_SLOTS = 3
MAX_PARAMS = 6
MAX_METRICS = 6
_BARS = "▁▂▃▄▅▆▇█"


def flat_params(params: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested params as (dotted.key, value) leaves; null leaves (absent in this run) dropped."""
    if not isinstance(params, dict):
        return [(prefix, params)] if prefix and params is not None else []
    out: list[tuple[str, Any]] = []
    for key, value in params.items():
        out.extend(flat_params(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def main_metrics(metrics: dict[str, Any] | None, limit: int = SPARK_SLOTS) -> list[str]:
    """The metrics worth a sparkline: validation/test first, then losses and accuracies."""
    keys = [k for k, v in (metrics or {}).items() if v is not None]

    def rank(key: str) -> tuple[int, str]:
        low = key.lower()
        score = 0 if low.startswith(("val", "test", "eval")) else 1
        score += 0 if any(w in low for w in ("loss", "acc", "f1", "auc")) else 2
        return score, key

    return sorted(keys, key=rank)[:limit]


def sparkline(values: Sequence[float], width: int) -> str:
    """Block-character sparkline of `values` squeezed (bucket means) into `width` cells."""
    finite = [v for v in values if v == v and v not in (float("inf"), float("-inf"))]
    if not finite or width <= 0:
        return ""
    if len(finite) > width:
        size = len(finite) / width
        finite = [
            sum(chunk) / len(chunk)
            for i in range(width)
            if (chunk := finite[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)])
        ]
    lo, hi = min(finite), max(finite)
    span = hi - lo
    top = len(_BARS) - 1
    return "".join(_BARS[int((v - lo) / span * top) if span else top // 2] for v in finite)


class _Spark:
    """A labelled sparkline that fills whatever width it is rendered at."""

    def __init__(self, label: str, values: list[float], colour: str = "cyan") -> None:
        self.label = label
        self.values = values
        self.colour = colour

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        label = safe(self.label, "dim", single_line=True)
        label.truncate(14, pad=True)
        last = fmt_number(self.values[-1]) if self.values else ""
        room = options.max_width - 14 - 1 - len(last) - 1
        line = Text.assemble(label, " ", (sparkline(self.values, room), self.colour), " ", last)
        yield line


class RunPreview(Static):
    DEFAULT_CSS = "RunPreview { padding: 0 1; }"

    def __init__(self, *, now: Callable[[], datetime] | None = None, **kwargs: Any) -> None:
        super().__init__(Text("no run highlighted", style="dim"), **kwargs)
        self._now = now or (lambda: datetime.now(UTC))
        self.run_id: str | None = None
        self.record: dict[str, Any] | None = None
        self.spark_keys: list[str] = []
        self.sparks: list[_Spark] = []
        self.colour: str | None = None
        self._second = 0

    def show(self, record: dict[str, Any] | None, colour: str | None = None) -> None:
        """Show a run's record; `colour` is the run's own (tui/run_colours.py)."""
        self.record = record
        self.colour = colour
        self.run_id = str(record.get("run_id")) if record else None
        self.spark_keys = main_metrics(record.get("metrics")) if record else []
        self.sparks = []
        self._paint()

    def show_history(self, run_id: str, frame: pl.DataFrame) -> None:
        """Sparklines for the main metrics, once their history has been read."""
        if run_id != self.run_id:
            return
        self.sparks = []
        for key in self.spark_keys:
            values = frame.filter(pl.col("key") == key).sort("step").get_column("value")
            if len(values):
                self.sparks.append(_Spark(key, values.to_list(), self.colour or "cyan"))
        self._paint()

    def tick(self) -> None:
        """A live run's age and duration, once a second (the record is not read again)."""
        second = int(self._now().timestamp())
        if self.record is not None and self.record.get("status") == "running":
            if second != self._second:
                self._second = second
                self._paint()

    def _paint(self) -> None:
        if self.record is None:
            self.update(Text("no run highlighted", style="dim"), layout=False)
            return
        self.update(Group(*self._describe(self.record), *self.sparks), layout=False)

    def _describe(self, r: dict[str, Any]) -> list[Any]:
        status = str(r.get("status") or "")
        head = Text.assemble(
            ("▌", self.colour or ""),
            (status_glyph(status) + " ", STATUS_STYLES.get(status, "")),
            safe(r.get("name") or "", "bold", single_line=True),
            "  ",
            (status, STATUS_STYLES.get(status, "")),
        )
        head.no_wrap = True
        head.overflow = "ellipsis"
        facts = Text(style="dim", no_wrap=True, overflow="ellipsis")
        facts.append_text(safe(r.get("experiment") or "", single_line=True))
        now = self._now()
        duration = live_duration(status, r.get("created"), r.get("duration_s"), now)
        if duration is not None:
            facts.append(f" · {fmt_duration(duration)}")
        facts.append(f" · {fmt_age(r.get('created'), now)} ago")
        if r.get("last_step") is not None:
            facts.append(f" · step {r['last_step']}")
        tags = r.get("tags") or []
        if tags:
            facts.append(" · ")
            facts.append_text(safe(", ".join(str(t) for t in tags), single_line=True))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        params = [
            Text.assemble(
                safe(k, "cyan", single_line=True), " = ", safe(fmt_value(v), single_line=True)
            )
            for k, v in flat_params(r.get("params"))[:MAX_PARAMS]
        ]
        last = {k: v for k, v in (r.get("metrics") or {}).items() if v is not None}
        metrics = [
            Text.assemble(safe(k, "green", single_line=True), " ", fmt_number(last[k]))
            for k in sorted(last)[:MAX_METRICS]
        ]
        if not params:
            params = [Text("no params", style="dim")]
        if not metrics:
            metrics = [Text("no metrics", style="dim")]
        for i in range(max(len(params), len(metrics))):
            grid.add_row(
                params[i] if i < len(params) else "", metrics[i] if i < len(metrics) else ""
            )
        return [head, facts, grid]
