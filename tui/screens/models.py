"""The Models screen: every registered version with its aliases, and the highlighted
version's manifest, lineage, metrics, alias history and files; its model card, alias moves
and removals, the compare screen over the runs of two marked versions, and the Monitor view
of its model's deployment targets. Live: reloads on
store changes (the watcher follows the registry's folders)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from mmtop.tui import models_view
from mmtop.tui.host import host
from mmtop.tui.messages import LoadFailed, ModelDetailLoaded, ModelsLoaded, StoreChanged
from mmtop.tui.safe_text import clean
from mmtop.tui.widgets.runs_table import MARK
from mmtop.tui.workers import ReportsFailedWorkers

Command = tuple[str, str, Callable[[], Any]]


class ModelsScreen(ReportsFailedWorkers, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="models.back"),
        Binding("o", "open_run", "Source run", id="models.open_run"),
        Binding("a", "move_alias", "Alias here", id="models.alias"),
        Binding("u", "remove_alias", "Unalias", id="models.unalias"),
        Binding("m", "model_card", "Card", id="models.card"),
        Binding("space", "toggle_mark", "Mark", id="models.mark"),
        Binding("c", "compare", "Compare", id="models.compare"),
        Binding("v", "monitor", "Monitor", id="models.monitor"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="models.refresh"),
        Binding("j", "cursor_down", "Down", show=False, id="models.down"),
        Binding("k", "cursor_up", "Up", show=False, id="models.up"),
    ]
    DEFAULT_CSS = """
    ModelsScreen #models-table { height: auto; max-height: 40%; }
    ModelsScreen #models-detail { height: 1fr; border-top: solid $primary; padding: 0 1; }
    ModelsScreen #models-top { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.detail_loads = 0
        self.refs: list[str] = []
        self.run_ids: dict[str, str] = {}
        self.shown_ref: str | None = None
        self.shown_aliases: list[str] = []
        self.detail_text = ""
        self.marked: list[str] = []  # in the order they were marked

    def compose(self) -> ComposeResult:
        yield Static("models", id="models-top")
        yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="models-detail"):
            yield Static("", id="models-detail-text")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#models-table", DataTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.load_models()

    # -- loading (workers post messages; only handlers touch widgets) -------------------

    @work(thread=True, exclusive=True, group="models", exit_on_error=False)
    def load_models(self) -> None:
        try:
            st = host(self).get_store()
            frame = st.models()
            problems = st.model_problems()
        except Exception as exc:  # noqa: BLE001 - an unreadable store: say so, do not crash
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(ModelsLoaded(frame, problems))

    @work(thread=True, exclusive=True, group="model-detail", exit_on_error=False)
    def load_detail(self, ref: str) -> None:
        try:
            st = host(self).get_store()
            version = st.model(ref)
            version.lineage()  # children: read here, not on the UI thread
            history = st.model_history(version.name)
        except Exception as exc:  # noqa: BLE001 - an unreadable registry: say so, do not crash
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(ModelDetailLoaded(ref, version, history))

    def on_models_loaded(self, message: ModelsLoaded) -> None:
        frame = message.frame
        table = self.table
        current = (
            self.refs[table.cursor_row] if self.refs and table.cursor_row < len(self.refs) else None
        )
        keys = models_view.metric_keys(frame)
        table.clear(columns=True)
        table.add_columns(*models_view.COLUMNS, *[clean(k, single_line=True) for k in keys])
        rows = models_view.rows(frame)
        self.refs = [ref for ref, _ in rows]
        self.marked = [ref for ref in self.marked if ref in self.refs]
        self.run_ids = {
            f"{n}/{v}": r for n, v, r in frame.select("name", "version", "run_id").iter_rows() if r
        }
        for ref, cells in rows:
            table.add_row(*self._marked_cells(ref, cells), key=ref)
        if current in self.refs:
            table.move_cursor(row=self.refs.index(current))
        models = frame["name"].n_unique() if frame.height else 0
        skipped = f", {len(message.problems)} skipped files" if message.problems else ""
        self.query_one("#models-top", Static).update(
            f"models: {models} models, {frame.height} versions{skipped}"
        )
        self.loads += 1
        if not rows:
            self.query_one("#models-detail-text", Static).update(
                "no registered models: run.log_model(model, name) in a training script"
            )
        elif self.shown_ref not in self.refs or current is None:
            self._show(self.refs[table.cursor_row])
        else:
            self._show(self.shown_ref or self.refs[0])

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        key = message.row_key.value if message.row_key is not None else None
        if key and key != self.shown_ref:
            self._show(key)

    def _show(self, ref: str) -> None:
        self.shown_ref = ref
        self.load_detail(ref)

    def on_model_detail_loaded(self, message: ModelDetailLoaded) -> None:
        if message.ref != self.shown_ref:
            return
        self.shown_aliases = list(message.version.aliases)
        text = models_view.detail(message.version, message.history)
        self.query_one("#models-detail-text", Static).update(text)
        self.detail_text = text.plain
        self.detail_loads += 1

    def on_load_failed(self, message: LoadFailed) -> None:
        self.notify(f"models: {message.error}", severity="error", markup=False)

    def on_store_changed(self, message: StoreChanged) -> None:
        self.load_models()

    # -- actions ----------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def action_refresh(self) -> None:
        self.load_models()

    def action_open_run(self) -> None:
        run_id = self.run_ids.get(self.shown_ref or "")
        if not run_id:
            self.notify("this version was registered without a run", severity="warning")
            return
        from mmtop.tui.screens.detail import RunDetailScreen

        self.app.push_screen(RunDetailScreen(run_id))

    def _writable_ref(self) -> str | None:
        """The highlighted version, when there is one and the store may be written."""
        if not self.shown_ref:
            return None
        if host(self).read_only:
            self.notify("the store is read-only", severity="warning")
            return None
        return self.shown_ref

    def action_move_alias(self) -> None:
        """Point an alias at the highlighted version, after the user confirms by typing it."""
        from mmtop.tui.screens.prompt import PromptScreen

        ref = self._writable_ref()
        if ref is None:
            return
        name, _, number = ref.partition("/")

        def chosen(alias: str | None) -> None:
            if alias and alias.strip():
                self.set_alias(name, alias.strip(), int(number))

        hint = "the move is recorded in the model's history (enter confirms, esc cancels)"
        self.app.push_screen(PromptScreen(f"point an alias at {ref}", "champion", hint), chosen)

    @work(thread=True, group="model-alias", exit_on_error=False)
    def set_alias(self, name: str, alias: str, number: int) -> None:
        try:
            event = host(self).get_store().set_alias(name, alias, number)
        except Exception as exc:  # noqa: BLE001 - bad alias, read-only store: say so
            self.post_message(LoadFailed(str(exc)))
            return
        self.app.call_from_thread(self._alias_moved, name, alias, number, event)

    def _alias_moved(self, name: str, alias: str, number: int, event: Any) -> None:
        if event is None:
            self.notify(f"{name}@{alias} already points at {number}", markup=False)
        else:
            old = event["from"] if event["from"] is not None else "(none)"
            self.notify(f"{name}@{alias}: {old} → {number}", markup=False)
        self.load_models()

    def _marked_cells(self, ref: str, cells: list[str]) -> list[str]:
        return [f"{MARK} {cells[0]}", *cells[1:]] if ref in self.marked else cells

    def action_toggle_mark(self) -> None:
        ref = self.shown_ref
        if not ref or ref not in self.refs:
            return
        if ref in self.marked:
            self.marked.remove(ref)
        else:
            self.marked.append(ref)
        name = ref.rpartition("/")[0]
        cell = clean(name, single_line=True)
        column = self.table.ordered_columns[0].key
        self.table.update_cell(
            ref, column, f"{MARK} {cell}" if ref in self.marked else cell, update_width=True
        )

    def action_compare(self) -> None:
        """Compare the runs of the two marked versions; with none marked, of the highlighted
        model's versions."""
        from mmtop.tui.screens.compare import CompareScreen

        if self.marked:
            runs = self._marked_runs()
            if runs is None:
                return
        else:
            name = (self.shown_ref or "").partition("/")[0]
            runs = list(
                dict.fromkeys(
                    run for ref, run in self.run_ids.items() if ref.partition("/")[0] == name
                )
            )
            if len(runs) < 2:
                self.notify(
                    "fewer than two versions of this model came from runs", severity="warning"
                )
                return
        self.app.push_screen(CompareScreen(host(self).get_store(), runs))

    def _marked_runs(self) -> list[str] | None:
        """The source runs of exactly two marked versions, or None after saying what is wrong."""
        if len(self.marked) != 2:
            self.notify(
                f"mark two versions to compare ({len(self.marked)} marked; space marks)",
                severity="warning",
            )
            return None
        missing = [ref for ref in self.marked if not self.run_ids.get(ref)]
        if missing:
            self.notify(
                f"{clean(missing[0], single_line=True)} was registered without a run",
                severity="warning",
                markup=False,
            )
            return None
        runs = [self.run_ids[ref] for ref in self.marked]
        if runs[0] == runs[1]:
            self.notify("both marked versions came from the same run", severity="warning")
            return None
        return runs

    def action_model_card(self) -> None:
        """The README.md `mmtop models export` writes for the highlighted version."""
        if self.shown_ref:
            self.load_card(self.shown_ref)

    @work(thread=True, exclusive=True, group="model-card", exit_on_error=False)
    def load_card(self, ref: str) -> None:
        from mmtop.tui.cli.commands.models_export import model_card

        try:
            st = host(self).get_store()
            version = st.model(ref)
            card = model_card(version, st.model_history(version.name).to_dicts())
        except Exception as exc:  # noqa: BLE001 - an unreadable registry: say so, do not crash
            self.post_message(LoadFailed(str(exc)))
            return
        self.app.call_from_thread(self._show_card, ref, card)

    def action_monitor(self) -> None:
        """The Monitor view of the highlighted version's model, at its deployment targets."""
        if self.shown_ref:
            self.load_targets(self.shown_ref.partition("/")[0])

    @work(thread=True, exclusive=True, group="model-targets", exit_on_error=False)
    def load_targets(self, name: str) -> None:
        try:
            targets = host(self).get_store().targets(name)
        except Exception as exc:  # noqa: BLE001 - an unreadable registry: say so, do not crash
            self.post_message(LoadFailed(str(exc)))
            return
        self.app.call_from_thread(self._show_monitor, name, targets)

    def _show_monitor(self, name: str, targets: list[str]) -> None:
        from mmtop.tui.screens.monitor import MonitorScreen

        if not targets:
            self.notify(
                f"{clean(name, single_line=True)} is not deployed: "
                "mmtop models deploy REF --target T",
                severity="warning",
                markup=False,
            )
            return
        self.app.push_screen(MonitorScreen(name, targets))

    def _show_card(self, ref: str, card: str) -> None:
        from mmtop.tui.screens.model_card import ModelCardScreen

        self.app.push_screen(ModelCardScreen(ref, card))

    def action_remove_alias(self) -> None:
        """Remove an alias of the highlighted version, after the user confirms by typing it."""
        from mmtop.tui.screens.prompt import PromptScreen

        ref = self._writable_ref()
        if ref is None:
            return
        aliases = list(self.shown_aliases)
        if not aliases:
            self.notify(f"{clean(ref)} has no alias", severity="warning", markup=False)
            return
        name, _, number = ref.rpartition("/")

        def chosen(alias: str | None) -> None:
            alias = (alias or "").strip()
            if not alias:
                return
            if alias not in aliases:
                self.notify(
                    f"{clean(alias, single_line=True)} is not an alias of {clean(ref)}",
                    severity="warning",
                    markup=False,
                )
                return
            self.unset_alias(name, alias, int(number))

        hint = (
            f"type the alias to remove ({', '.join(aliases)}); the removal is recorded in the "
            "model's history (enter confirms, esc cancels)"
        )
        self.app.push_screen(PromptScreen(f"remove an alias of {ref}", "", hint), chosen)

    @work(thread=True, group="model-alias", exit_on_error=False)
    def unset_alias(self, name: str, alias: str, number: int) -> None:
        try:
            st = host(self).get_store()
            event = st.remove_alias(name, alias, version=number)
        except Exception as exc:  # noqa: BLE001 - moved meanwhile, read-only store: say so
            self.post_message(LoadFailed(str(exc)))
            return
        self.app.call_from_thread(self._alias_removed, name, alias, number, event)

    def _alias_removed(self, name: str, alias: str, number: int, event: Any) -> None:
        if event is not None:
            self.notify(f"{name}@{alias} removed (was {number})", markup=False)
        self.load_models()

    def action_show_help(self) -> None:
        from mmtop.tui.screens.help import HelpScreen, section

        self.app.push_screen(
            HelpScreen(
                "models",
                [
                    section("models", self.BINDINGS),
                    section("everywhere", self.app.BINDINGS),
                    ("", [("ctrl+p", "Command palette: every action by name")]),
                ],
            )
        )

    def palette_commands(self) -> Iterator[Command]:
        yield ("models: back to runs", "Close the Models screen", self.app.pop_screen)
        yield ("models: open source run", "The run that made this version", self.action_open_run)
        yield ("models: move alias", "Point an alias at this version", self.action_move_alias)
        yield ("models: remove alias", "Remove an alias of this version", self.action_remove_alias)
        yield ("models: model card", "The README.md export writes", self.action_model_card)
        yield ("models: mark version", "Mark two versions to compare", self.action_toggle_mark)
        yield (
            "models: monitor",
            "Drift and quality at its deployment targets",
            self.action_monitor,
        )
        yield (
            "models: compare runs",
            "The runs of the two marked versions, else of this model's versions",
            self.action_compare,
        )
        yield ("models: refresh", "Read the registry again", self.action_refresh)
