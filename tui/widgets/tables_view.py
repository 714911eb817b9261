"""Tables tab: the run's logged tables; confusion matrices as heatmaps, others as tables."""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mmtop.tui.confusion import to_confusion, wrong_first
from mmtop.tui.run_extras import TableData, TableRef
from mmtop.tui.safe_text import safe
from mmtop.tui.widgets.confusion_heatmap import ConfusionHeatmap
from mmtop.tui.widgets.frame_table import FrameTable

_KIND_MARK = {"confusion": "▦", "predictions": "≡", "table": "▤"}


class TablesView(Horizontal):
    DEFAULT_CSS = """
    TablesView #tables-list { width: 24; height: 1fr; }
    TablesView #tables-body { width: 1fr; height: 1fr; }
    TablesView FrameTable { height: 1fr; }
    TablesView #tables-note { height: auto; padding: 0 1; }
    """

    class Chosen(Message):
        def __init__(self, ref: TableRef) -> None:
            super().__init__()
            self.ref = ref

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.refs: list[TableRef] = []

    def compose(self) -> ComposeResult:
        yield OptionList(id="tables-list")
        with VerticalScroll(id="tables-body"):
            yield Static(Text("loading…", style="dim"), id="tables-note")
            yield ConfusionHeatmap(id="heatmap")
            yield FrameTable(id="frame-table")

    def on_mount(self) -> None:
        self.query_one(ConfusionHeatmap).display = False
        self.query_one(FrameTable).display = False

    def set_tables(self, refs: list[TableRef]) -> None:
        self.refs = refs
        options = self.query_one("#tables-list", OptionList)
        options.set_options(
            [
                Option(Text(_KIND_MARK.get(r.kind, "▤") + " ").append_text(safe(r.name)), id=str(i))
                for i, r in enumerate(refs)
            ]
        )
        note = self.query_one("#tables-note", Static)
        if not refs:
            note.update(Text("nothing logged: no tables for this run", style="dim"))
            options.display = False
            return
        options.display = True
        note.update(Text("choose a table (enter)", style="dim"))
        options.highlighted = 0
        self.post_message(self.Chosen(refs[0]))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = int(event.option.id or 0)
        if 0 <= index < len(self.refs):
            self.post_message(self.Chosen(self.refs[index]))

    def show_table(self, ref: TableRef, data: TableData, error: str | None) -> None:
        note = self.query_one("#tables-note", Static)
        heat = self.query_one(ConfusionHeatmap)
        table = self.query_one(FrameTable)
        heat.display = table.display = False
        if error or data is None:
            note.update(safe(f"{ref.name}: {error or 'nothing logged'}", "yellow"))
            return
        cm = to_confusion(data) if ref.kind == "confusion" else None
        if cm is not None:
            note.update("")
            heat.show(cm, ref.name)
            heat.display = True
            return
        frame = data if isinstance(data, pl.DataFrame) else _as_frame(data)
        if frame is None:
            note.update(safe(f"{ref.name}: cannot show a {type(data).__name__}", "yellow"))
            return
        if ref.kind == "predictions":
            frame = wrong_first(frame)
            hint = "mistakes first, most confident first · s sorts by column, r reverses"
        else:
            hint = "s sorts by the cursor's column, r reverses"
        note.update(
            Text.assemble(safe(ref.name, "bold"), f"  {frame.height} rows · ", (hint, "dim"))
        )
        table.sort_key = None
        table.show(frame)
        table.display = True


def _as_frame(data: Any) -> pl.DataFrame | None:
    try:
        return pl.DataFrame(data)
    except Exception:  # noqa: BLE001 - not tabular: polars raises many types
        return None
