"""The Datasets screen: every dataset version with its fingerprint, rows and label set, and
the highlighted version's source, lineage (labels, parent, the runs and model versions that
used it) and schema; `d` shows what changed since the version before it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from mmtop.tui import datasets_view
from mmtop.tui.host import host
from mmtop.tui.messages import DatasetDetailLoaded, DatasetsLoaded, LoadFailed, StoreChanged
from mmtop.tui.workers import ReportsFailedWorkers

Command = tuple[str, str, Callable[[], Any]]


class DatasetsScreen(ReportsFailedWorkers, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="datasets.back"),
        Binding("o", "open_run", "Run", id="datasets.open_run"),
        Binding("d", "diff_previous", "Diff previous", id="datasets.diff"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="datasets.refresh"),
        Binding("j", "cursor_down", "Down", show=False, id="datasets.down"),
        Binding("k", "cursor_up", "Up", show=False, id="datasets.up"),
    ]
    DEFAULT_CSS = """
    DatasetsScreen #datasets-table { height: auto; max-height: 40%; }
    DatasetsScreen #datasets-detail { height: 1fr; border-top: solid $primary; padding: 0 1; }
    DatasetsScreen #datasets-top { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.detail_loads = 0
        self.refs: list[str] = []
        self.shown_ref: str | None = None
        self.detail_text = ""
        self.run_ids: list[str] = []  # runs that used the shown version

    def compose(self) -> ComposeResult:
        yield Static("datasets", id="datasets-top")
        yield DataTable(id="datasets-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="datasets-detail"):
            yield Static("", id="datasets-detail-text")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#datasets-table", DataTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.load_datasets()

    # -- loading (workers post messages; only handlers touch widgets) -------------------

    @work(thread=True, exclusive=True, group="datasets", exit_on_error=False)
    def load_datasets(self) -> None:
        try:
            st = host(self).get_store()
            frame = st.datasets()
            problems = st.dataset_problems()
        except Exception as exc:  # noqa: BLE001 - an unreadable store: say so, do not crash
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(DatasetsLoaded(frame, problems))

    @work(thread=True, exclusive=True, group="dataset-detail", exit_on_error=False)
    def load_detail(self, ref: str, against: str | None = None) -> None:
        try:
            st = host(self).get_store()
            version = st.dataset(ref)
            lineage = st.dataset_lineage(ref)
            diff = st.dataset_diff(against, ref) if against else None
        except Exception as exc:  # noqa: BLE001 - an unreadable registry: say so, do not crash
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(DatasetDetailLoaded(ref, version, lineage, diff))

    def on_datasets_loaded(self, message: DatasetsLoaded) -> None:
        frame = message.frame
        table = self.table
        current = self.shown_ref
        table.clear(columns=True)
        table.add_columns(*datasets_view.COLUMNS)
        rows = datasets_view.rows(frame)
        self.refs = [ref for ref, _ in rows]
        for ref, cells in rows:
            table.add_row(*cells, key=ref)
        if current in self.refs:
            table.move_cursor(row=self.refs.index(current))
        names = frame["name"].n_unique() if frame.height else 0
        skipped = f", {len(message.problems)} skipped files" if message.problems else ""
        self.query_one("#datasets-top", Static).update(
            f"datasets: {names} datasets, {frame.height} versions{skipped}"
        )
        self.loads += 1
        if not rows:
            self.query_one("#datasets-detail-text", Static).update(
                "no dataset versions: run.log_dataset(frame, name) in a training script, or "
                "store.log_dataset_version(name, path)"
            )
            return
        self._show(current if current in self.refs else self.refs[table.cursor_row])

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        key = message.row_key.value if message.row_key is not None else None
        if key and key != self.shown_ref:
            self._show(key)

    def _show(self, ref: str | None, against: str | None = None) -> None:
        if ref is None:
            return
        self.shown_ref = ref
        self.load_detail(ref, against)

    def on_dataset_detail_loaded(self, message: DatasetDetailLoaded) -> None:
        if message.ref != self.shown_ref:
            return
        self.run_ids = [str(r["run_id"]) for r in message.lineage.get("runs") or []]
        text = datasets_view.detail(message.version, message.lineage)
        if message.diff is not None:
            diff = datasets_view.diff_text(message.diff)
            diff.append("\n")
            text = diff + text
        self.query_one("#datasets-detail-text", Static).update(text)
        self.detail_text = text.plain
        self.detail_loads += 1

    def on_load_failed(self, message: LoadFailed) -> None:
        self.notify(f"datasets: {message.error}", severity="error", markup=False)

    def on_store_changed(self, message: StoreChanged) -> None:
        self.load_datasets()

    # -- actions ----------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def action_refresh(self) -> None:
        self.load_datasets()

    def action_open_run(self) -> None:
        """The first run that used the highlighted version."""
        if not self.run_ids:
            self.notify("no run used this version", severity="warning")
            return
        from mmtop.tui.screens.detail import RunDetailScreen

        self.app.push_screen(RunDetailScreen(self.run_ids[0]))

    def action_diff_previous(self) -> None:
        """What changed in the highlighted version since the version of the name before it."""
        ref = self.shown_ref
        if not ref:
            return
        name, _, number = ref.rpartition("@")
        earlier = [r for r in self.refs if r.rpartition("@")[0] == name]
        older = [r for r in earlier if int(r.rpartition("@")[2]) < int(number)]
        if not older:
            self.notify(f"{ref} is the first version of {name}", severity="warning", markup=False)
            return
        self._show(ref, older[-1])

    def action_show_help(self) -> None:
        from mmtop.tui.screens.help import HelpScreen, section

        self.app.push_screen(
            HelpScreen(
                "datasets",
                [
                    section("datasets", self.BINDINGS),
                    section("everywhere", self.app.BINDINGS),
                    ("", [("ctrl+p", "Command palette: every action by name")]),
                ],
            )
        )

    def palette_commands(self) -> Iterator[Command]:
        yield ("datasets: back to runs", "Close the Datasets screen", self.app.pop_screen)
        yield ("datasets: open run", "The first run that used this version", self.action_open_run)
        yield (
            "datasets: diff previous",
            "What changed since the version before",
            self.action_diff_previous,
        )
        yield ("datasets: refresh", "Read the registry again", self.action_refresh)
