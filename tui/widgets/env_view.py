"""Env tab: interpreter, machine, GPUs, chosen variables, and a searchable package list."""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from mmtop.tui.formatting import fmt_bytes, fmt_value
from mmtop.tui.safe_text import safe
from mmtop.tui.widgets.frame_table import FrameTable


def packages_frame(env: Any) -> pl.DataFrame:
    packages = env.get("packages") if isinstance(env, dict) else None
    if isinstance(packages, dict):
        rows = sorted((str(k), str(v)) for k, v in packages.items())
    elif isinstance(packages, list):
        rows = sorted(
            (str(p.get("name", "")), str(p.get("version", "")))
            if isinstance(p, dict)
            else (str(p), "")
            for p in packages
        )
    else:
        rows = []
    return pl.DataFrame(rows, schema=["package", "version"], orient="row")


def machine_table(env: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    py = env.get("python") or {}
    plat = env.get("platform") or {}
    cpu = env.get("cpu") or {}
    if isinstance(py, dict):
        grid.add_row("python", safe(f"{py.get('version', '?')} ({py.get('implementation', '')})"))
    if isinstance(plat, dict):
        grid.add_row("platform", safe(" ".join(str(v) for v in plat.values())))
    if env.get("hostname"):
        grid.add_row("host", safe(env["hostname"]))
    if isinstance(cpu, dict) and cpu:
        grid.add_row("cpu", safe(", ".join(f"{k} {fmt_value(v)}" for k, v in cpu.items())))
    if isinstance(env.get("memory_total_bytes"), int):
        grid.add_row("memory", fmt_bytes(env["memory_total_bytes"]))
    gpus = env.get("gpus") or []
    grid.add_row("gpus", safe("; ".join(fmt_value(g) for g in gpus)) if gpus else Text("none"))
    for name, value in sorted((env.get("env_vars") or {}).items()):
        grid.add_row(safe(name, single_line=True), safe(value, single_line=True))
    return grid


class EnvView(Vertical):
    BINDINGS = [Binding("slash", "search", "Search packages", id="env.search")]
    DEFAULT_CSS = """
    EnvView #env-machine { height: auto; max-height: 12; padding: 0 1; }
    EnvView FrameTable { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.packages = pl.DataFrame(schema={"package": pl.String, "version": pl.String})

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="env-machine")
        yield Input(placeholder="search packages", classes="search-input", id="env-search")
        yield FrameTable(id="env-packages")

    def show(self, env: Any) -> None:
        machine = self.query_one("#env-machine", Static)
        if not isinstance(env, dict) or not env:
            machine.update(Text("nothing logged: no environment for this run", style="dim"))
            self.query_one("#env-search").display = False
            self.query_one(FrameTable).display = False
            return
        machine.update(machine_table(env))
        self.packages = packages_frame(env)
        self._filter(self.query_one("#env-search", Input).value)

    def _filter(self, needle: str) -> None:
        frame = self.packages
        if needle.strip():
            frame = frame.filter(
                pl.col("package")
                .str.to_lowercase()
                .str.contains(needle.strip().lower(), literal=True)
            )
        self.query_one(FrameTable).show(frame)

    @on(Input.Changed, "#env-search")
    def _search(self, event: Input.Changed) -> None:
        self._filter(event.value)

    def action_search(self) -> None:
        self.query_one("#env-search", Input).focus()
