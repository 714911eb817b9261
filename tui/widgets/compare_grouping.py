"""`G` on the compare screen: choose how to group the compared runs.

Offers no grouping, every param except the seed-like ones, and each param whose values
differ, each with the number of groups it would make. Dismisses with "" (no grouping),
`tui.grouping.ALL_BUT_SEEDS` or a flattened param key; escape dismisses with None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mmtop.tui.grouping import ALL_BUT_SEEDS, group_runs, grouping_keys, is_seed_like
from mmtop.tui.safe_text import safe

NO_GROUPING = ""


def choices(params: Sequence[Mapping[str, Any] | None]) -> list[tuple[str, Text]]:
    """(value, prompt) for every way to group these runs, the sensible ones first."""
    n_runs = len(params)

    def count(by: str) -> str:
        n = len(group_runs(params, by))
        return f"{n} group{'s' if n != 1 else ''} of {n_runs} runs"

    out: list[tuple[str, Text]] = [(NO_GROUPING, Text("no grouping: one line per run"))]
    prompt = Text("every param except seed-like ones  ")
    prompt.append(count(ALL_BUT_SEEDS), style="dim")
    out.append((ALL_BUT_SEEDS, prompt))
    for key in grouping_keys(params):
        prompt = safe(key, single_line=True)
        prompt.append(f"  {count(key)}", style="dim")
        if is_seed_like(key):
            prompt.append("  (seed-like)", style="dim italic")
        out.append((key, prompt))
    return out


class GroupPicker(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="compare.group.cancel")]
    DEFAULT_CSS = """
    GroupPicker { align: center middle; }
    GroupPicker > Vertical {
        width: 70; max-width: 100%; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    GroupPicker OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, params: Sequence[Mapping[str, Any] | None], current: str) -> None:
        super().__init__()
        self.options = choices(params)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "group runs by (enter picks, esc cancels)"
            yield Static(Text("groups are drawn as mean ± 1 std", style="dim"))
            yield OptionList(
                *[Option(prompt, id=f"g{i}") for i, (_, prompt) in enumerate(self.options)]
            )

    def on_mount(self) -> None:
        values = [value for value, _ in self.options]
        option_list = self.query_one(OptionList)
        option_list.highlighted = values.index(self.current) if self.current in values else 0
        option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.options[event.option_index][0])
