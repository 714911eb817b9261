"""Params tab: nested hyperparameters as a tree, with a search that keeps matching paths."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Tree
from textual.widgets.tree import TreeNode

from mmtop.tui.formatting import fmt_value
from mmtop.tui.safe_text import safe


def matches(params: Any, needle: str, prefix: str = "") -> bool:
    """Whether any key path or value under `params` contains `needle` (lower-case)."""
    if isinstance(params, dict):
        return any(
            matches(v, needle, f"{prefix}.{k}" if prefix else str(k)) for k, v in params.items()
        )
    return needle in prefix.lower() or needle in fmt_value(params).lower()


class ParamsTree(Vertical):
    BINDINGS = [Binding("slash", "search", "Search params", id="params.search")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.params: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="search params (key or value)", classes="search-input", id="params-search"
        )
        tree: Tree[None] = Tree(Text("params", style="bold"), id="params-tree")
        tree.show_root = False
        yield tree

    def show(self, params: dict[str, Any]) -> None:
        self.params = params
        self._build(self.query_one("#params-search", Input).value)

    def _build(self, needle: str) -> None:
        tree: Tree[None] = self.query_one("#params-tree", Tree)
        tree.clear()
        needle = needle.strip().lower()
        if not self.params:
            tree.root.add_leaf(Text("no params logged", style="dim"))
            return
        self._add(tree.root, self.params, needle, "")
        tree.root.expand_all()

    def _add(self, node: TreeNode[None], params: dict[str, Any], needle: str, prefix: str) -> None:
        for key, value in params.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if needle and not matches(value, needle, path):
                continue
            label = safe(key, "cyan", single_line=True)
            if isinstance(value, dict):
                child = node.add(label)
                # A matching branch shows everything under it, not only matching leaves.
                inner = "" if needle and needle in path.lower() else needle
                self._add(child, value, inner, path)
            else:
                label.append(" = ")
                label.append_text(safe(fmt_value(value), single_line=True))
                node.add_leaf(label)

    @on(Input.Changed, "#params-search")
    def _search(self, event: Input.Changed) -> None:
        self._build(event.value)

    def action_search(self) -> None:
        self.query_one("#params-search", Input).focus()
