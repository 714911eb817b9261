"""The `[` sidebar: experiments with run counts; choosing one narrows the runs table."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mmtop.tui.safe_text import safe

ALL = "\x00all"


class ExperimentsSidebar(OptionList):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="sidebar.down"),
        Binding("k", "cursor_up", "Up", show=False, id="sidebar.up"),
        Binding("g", "first", "First", show=False, id="sidebar.first"),
        Binding("G", "last", "Last", show=False, id="sidebar.last"),
    ]

    class Chosen(Message):
        def __init__(self, experiment: str | None) -> None:
            super().__init__()
            self.experiment = experiment

    def set_experiments(self, counts: list[tuple[str, int]], current: str | None) -> None:
        total = sum(n for _, n in counts)
        options = [Option(Text.assemble(("All", "bold"), f" ({total})"), id=ALL)]
        for name, n in counts:
            label = safe(name, single_line=True)
            label.append(f" ({n})", style="dim")
            options.append(Option(label, id=f"e:{name}"))
        highlighted = self.highlighted
        self.set_options(options)
        want = ALL if current is None else f"e:{current}"
        try:
            self.highlighted = self.get_option_index(want)
        except Exception:  # noqa: BLE001 - experiment vanished: keep the cursor
            self.highlighted = highlighted if highlighted is not None else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ALL
        self.post_message(self.Chosen(None if option_id == ALL else option_id[2:]))
