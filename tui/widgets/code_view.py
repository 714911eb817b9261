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

from mmtop.tui.formatting import shell_command
from mmtop.tui.safe_text import clean, safe


def code_summary(code: Any, patch: str | None = None) -> RenderableType:
    if not isinstance(code, dict) or not code:
        return Text("nothing logged: no code information for this run", style="dim")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    grid.add_row("command", Text(shell_command(code.get("command"))))
    grid.add_row("cwd", safe(code.get("cwd") or ""))
    git = code.get("git")
    if isinstance(git, dict):
        grid.add_row("commit", safe(git.get("commit") or "?"))
        grid.add_row("branch", safe(git.get("branch") or "(detached)"))
        if git.get("remote_url"):
            grid.add_row("remote", safe(git["remote_url"]))
        if not git.get("dirty"):
            state = Text("clean", style="green")
        elif patch:
            state = Text("dirty: uncommitted changes below", style="bold yellow")
        else:
            state = Text("dirty: uncommitted changes (diff not captured)", style="bold yellow")
        grid.add_row("state", state)
        untracked = git.get("untracked") or []
        if untracked:
            grid.add_row("untracked", safe(", ".join(str(u) for u in untracked[:20])))
    else:
        grid.add_row("git", Text("not a git checkout", style="dim"))
    for note in code.get("notes") or []:
        grid.add_row("note", safe(note, "yellow"))
    return grid


def missing_diff(code: Any) -> str:
    """Why a run shows no diff: it had none, or it had one that was not kept."""
    git = code.get("git") if isinstance(code, dict) else None
    if not isinstance(git, dict):
        return "no diff: the run did not record a git checkout"
    if not git.get("dirty"):
        return "no uncommitted changes: the checkout was clean"
    notes = [str(n) for n in code.get("notes") or []]
    if notes:
        return "the diff was not captured: " + "; ".join(notes)
    if git.get("patch_bytes"):
        return (
            f"the diff was not captured: git reported {git['patch_bytes']} bytes of changes, "
            "but code.patch is missing from the run folder"
        )
    return "the diff was not captured: the run recorded no code.patch (logged without it)"


def diff_view(patch: str | None, code: Any = None) -> RenderableType:
    if not patch:
        return safe(missing_diff(code), "dim")
    # Syntax never interprets markup; clean() removes escape sequences the diff may carry.
    return Syntax(clean(patch), "diff", theme="ansi_dark", word_wrap=False, line_numbers=False)


class CodeView(VerticalScroll):
    DEFAULT_CSS = "CodeView { padding: 0 1; }"

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="code-body")

    def show(self, code: Any, patch: str | None) -> None:
        self.query_one("#code-body", Static).update(
            Group(
                code_summary(code, patch),
                Text(),
                Text("diff", style="bold underline"),
                diff_view(patch, code),
            )
        )
