"""Preview of the highlighted run: status, timings, key params, last metrics, sparklines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import polars as pl
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline, Static

from tui.formatting import (
    STATUS_STYLES,
    fmt_age,
    fmt_duration,
    fmt_number,
    fmt_value,
    status_glyph,
)
from tui.safe_text import safe

SPARK_SLOTS = 3
MAX_PARAMS = 8
MAX_METRICS = 8


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


class RunPreview(Vertical):
    DEFAULT_CSS = """
    RunPreview { height: auto; padding: 0 1; }
    RunPreview .spark-row { height: 1; }
    RunPreview .spark-row Label { width: 14; color: $text-muted; }
    RunPreview Sparkline { height: 1; width: 1fr; }
    """

    def __init__(self, *, now: Callable[[], datetime] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._now = now or (lambda: datetime.now(UTC))
        self.run_id: str | None = None
        self.spark_keys: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(id="preview-text")
        for i in range(SPARK_SLOTS):
            with Horizontal(classes="spark-row", id=f"spark-row-{i}"):
                yield Label("", id=f"spark-label-{i}")
                yield Sparkline([], id=f"spark-{i}")

    def show(self, record: dict[str, Any] | None) -> None:
        text = self.query_one("#preview-text", Static)
        if record is None:
            self.run_id = None
            self.spark_keys = []
            text.update(Text("no run highlighted", style="dim"))
            self._hide_sparks()
            return
        self.run_id = str(record.get("run_id"))
        text.update(self._describe(record))
        self.spark_keys = main_metrics(record.get("metrics"))
        self._hide_sparks()

    def _describe(self, r: dict[str, Any]) -> Group:
        status = str(r.get("status") or "")
        head = Text.assemble(
            (status_glyph(status) + " ", STATUS_STYLES.get(status, "")),
            safe(r.get("name") or "", "bold", single_line=True),
            "  ",
            (status, STATUS_STYLES.get(status, "")),
        )
        facts = Text(style="dim")
        facts.append_text(safe(r.get("experiment") or "", single_line=True))
        facts.append(f" · {fmt_duration(r.get('duration_s'))}")
        facts.append(f" · started {fmt_age(r.get('created'), self._now())} ago")
        if r.get("last_step") is not None:
            facts.append(f" · step {r['last_step']}")
        tags = r.get("tags") or []
        if tags:
            facts.append(" · ")
            facts.append_text(safe(", ".join(str(t) for t in tags), single_line=True))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(ratio=1)
        grid.add_column(ratio=1)
        params = Text()
        for key, value in flat_params(r.get("params"))[:MAX_PARAMS]:
            params.append_text(safe(key, "cyan", single_line=True))
            params.append(" = ")
            params.append_text(safe(fmt_value(value), single_line=True))
            params.append("\n")
        metrics = Text()
        last = {k: v for k, v in (r.get("metrics") or {}).items() if v is not None}
        for key in sorted(last)[:MAX_METRICS]:
            metrics.append_text(safe(key, "green", single_line=True))
            metrics.append(" " + fmt_number(last[key]) + "\n")
        params.rstrip()
        metrics.rstrip()
        grid.add_row(params or Text("no params", style="dim"), metrics or Text("no metrics"))
        return Group(head, facts, grid)

    def _hide_sparks(self) -> None:
        for i in range(SPARK_SLOTS):
            self.query_one(f"#spark-row-{i}").display = False

    def show_history(self, run_id: str, frame: pl.DataFrame) -> None:
        """Sparklines for the main metrics, once their history has been read."""
        if run_id != self.run_id:
            return
        for i in range(SPARK_SLOTS):
            row = self.query_one(f"#spark-row-{i}")
            if i >= len(self.spark_keys):
                row.display = False
                continue
            key = self.spark_keys[i]
            values = frame.filter(pl.col("key") == key).sort("step").get_column("value")
            data = [v for v in values.to_list() if v == v]  # NaN breaks the scale; skip it
            if not data:
                row.display = False
                continue
            self.query_one(f"#spark-label-{i}", Label).update(safe(key, single_line=True))
            self.query_one(f"#spark-{i}", Sparkline).data = data
            row.display = True
