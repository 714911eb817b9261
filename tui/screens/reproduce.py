"""What `mmtop reproduce` would do for a run: commit, patch, packages, command, and every
piece that is missing (opened from the run detail screen with `R`)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mmtop.tui.formatting import shell_command
from mmtop.tui.reproduce_plan import Plan
from mmtop.tui.safe_text import safe


def describe(plan: Plan, command: str) -> RenderableType:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold cyan", no_wrap=True)
    facts.add_column()
    commit = Text(plan.commit or "none", style="" if plan.commit else "red")
    if plan.branch:
        commit.append(" on ")
        commit.append_text(safe(plan.branch, single_line=True))
    facts.add_row("commit", commit)
    facts.add_row("repository", safe(plan.repo or plan.remote_url or "not recorded"))
    facts.add_row("patch", f"{plan.patch_bytes} bytes" if plan.patch else "none")
    facts.add_row("python", plan.python or "not recorded")
    facts.add_row("packages", f"{len(plan.pinned)} pinned, {len(plan.unpinned)} not pinnable")
    facts.add_row(
        "command",
        safe(f"(in {plan.workdir}) python {shell_command(plan.argv)}" if plan.argv else "none"),
    )
    parts: list[RenderableType] = [facts, Text()]
    if plan.missing:
        parts.append(Text("cannot rebuild: not captured", style="bold red"))
        parts += [safe(f"  {m}", "red") for m in plan.missing]
        parts.append(Text())
    warnings = [f"not pinned: {u}" for u in plan.unpinned]
    if plan.untracked:
        warnings.append(f"{len(plan.untracked)} untracked file(s) not captured")
    if plan.redacted:
        warnings.append(f"the command had {len(plan.redacted)} redacted value(s): fill them in")
    warnings += plan.notes
    parts += [safe(f"  {w}", "yellow") for w in warnings]
    if warnings:
        parts.append(Text())
    parts.append(Text("copied to the clipboard:", style="bold"))
    parts.append(safe(command, single_line=True))
    return Group(*parts)


class ReproduceScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,R", "dismiss", "Close", id="reproduce.close"),
        Binding("j,down", "scroll_down", "Scroll down", show=False, id="reproduce.down"),
        Binding("k,up", "scroll_up", "Scroll up", show=False, id="reproduce.up"),
    ]
    DEFAULT_CSS = """
    ReproduceScreen { align: center middle; }
    ReproduceScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, plan: Plan, command: str) -> None:
        super().__init__()
        self.plan = plan
        self.command = command

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="reproduce-body") as body:
            body.border_title = "mmtop reproduce (esc closes)"
            yield Static(describe(self.plan, self.command), id="reproduce-text")

    def action_scroll_down(self) -> None:
        self.query_one("#reproduce-body").scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#reproduce-body").scroll_up()
