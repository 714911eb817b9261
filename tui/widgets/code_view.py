"""Code tab: command, git commit/branch/dirty, and the uncommitted diff in colour."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mmtop.tui.safe_text import clean, safe


def code_summary(code: Any) -> RenderableType:
    if not isinstance(code, dict) or not code:
        return Text("nothing logged: no code information for this run", style="dim")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    command = code.get("command")
    if isinstance(command, list):
        command = " ".join(str(c) for c in command)
    grid.add_row("command", safe(command or ""))
    grid.add_row("cwd", safe(code.get("cwd") or ""))
    git = code.get("git")
    if isinstance(git, dict):
        grid.add_row("commit", safe(git.get("commit") or "?"))
        grid.add_row("branch", safe(git.get("branch") or "(detached)"))
        if git.get("remote_url"):
            grid.add_row("remote", safe(git["remote_url"]))
        dirty = git.get("dirty")
        grid.add_row(
            "state",
            Text("dirty: uncommitted changes below", style="bold yellow")
            if dirty
            else Text("clean", style="green"),
        )
        untracked = git.get("untracked") or []
        if untracked:
            grid.add_row("untracked", safe(", ".join(str(u) for u in untracked[:20])))
    else:
        grid.add_row("git", Text("not a git checkout", style="dim"))
    for note in code.get("notes") or []:
        grid.add_row("note", safe(note, "yellow"))
    return grid


def diff_view(patch: str | None) -> RenderableType:
    if not patch:
        return Text("no uncommitted changes logged", style="dim")
    # Syntax never interprets markup; clean() removes escape sequences the diff may carry.
    return Syntax(clean(patch), "diff", theme="ansi_dark", word_wrap=False, line_numbers=False)


class CodeView(VerticalScroll):
    DEFAULT_CSS = "CodeView { padding: 0 1; }"

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="code-body")

    def show(self, code: Any, patch: str | None) -> None:
        self.query_one("#code-body", Static).update(
            Group(
                code_summary(code), Text(), Text("diff", style="bold underline"), diff_view(patch)
            )
        )
