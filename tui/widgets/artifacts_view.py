"""Artifacts tab: files a run saved (size, sha256) and the datasets it used."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mmtop.tui.formatting import fmt_bytes, fmt_value
from mmtop.tui.safe_text import safe


def _entries(data: Any, key: str = "files") -> list[dict[str, Any]]:
    """Lists of dicts, {"files": [...]}, or {path: meta}: all read as a list of dicts."""
    if isinstance(data, dict) and isinstance(data.get(key), list):
        data = data[key]
    if isinstance(data, dict):
        return [
            {"path": k, **(v if isinstance(v, dict) else {"value": v})} for k, v in data.items()
        ]
    if isinstance(data, (list, tuple)):
        return [d if isinstance(d, dict) else {"path": str(d)} for d in data]
    return []


def artifacts_table(data: Any) -> RenderableType:
    entries = _entries(data)
    if not entries:
        return Text("nothing logged: no artifacts", style="dim")
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("path")
    table.add_column("size", justify="right")
    table.add_column("sha256")
    for e in entries:
        size = e.get("size", e.get("bytes"))
        table.add_row(
            safe(e.get("path") or e.get("name") or "?", single_line=True),
            fmt_bytes(size if isinstance(size, int) else None),
            safe(str(e.get("sha256") or "")[:16], "dim", single_line=True),
        )
    return table


def dataset_ref(entry: dict[str, Any]) -> str:
    """`name@version` of the registered dataset version an input entry names, else ""."""
    found = entry.get("dataset")
    if isinstance(found, dict) and isinstance(found.get("version"), int):
        return f"{found.get('name')}@{found['version']}"
    return ""


def inputs_table(data: Any) -> RenderableType:
    entries = _entries(data, "inputs")
    if not entries:
        return Text("nothing logged: no datasets", style="dim")
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("name", "version", "uri", "rows", "fingerprint"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            safe(e.get("name") or e.get("path") or "?", single_line=True),
            safe(dataset_ref(e), "green", single_line=True),
            safe(e.get("uri") or "", single_line=True),
            fmt_value(e.get("rows")),
            safe(str(e.get("fingerprint") or "")[:16], "dim", single_line=True),
        )
    return table


class ArtifactsView(VerticalScroll):
    DEFAULT_CSS = "ArtifactsView { padding: 0 1; }"

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="artifacts-body")

    def show(self, artifacts: Any, inputs: Any) -> None:
        self.query_one("#artifacts-body", Static).update(
            Group(
                Text("artifacts", style="bold underline"),
                artifacts_table(artifacts),
                Text(),
                Text("datasets", style="bold underline"),
                inputs_table(inputs),
            )
        )
