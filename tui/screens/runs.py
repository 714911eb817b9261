"""The runs screen: sidebar, table, preview, filter bar, status bar.

Loads run in a thread worker (`RunsLoaded`); the watcher's `StoreChanged` asks for another
load, and at most one is in flight (a change during a load schedules exactly one more).
The user's choices (`ViewState`), the marks and the cursor's run survive every reload.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from mmtop.store import filter_check
from mmtop.store.errors import StoreError
from mmtop.tui.coalesce import Coalescer
from mmtop.tui.columns import Column, ColumnChoice, label
from mmtop.tui.export import export_frame, write_csv
from mmtop.tui.filter_completion import candidates
from mmtop.tui.filtering import classify
from mmtop.tui.host import host
from mmtop.tui.messages import (
    ExportFinished,
    HistoryLoaded,
    LiveTick,
    LoadFailed,
    RunsLoaded,
    StoreChanged,
)
from mmtop.tui.runs_view import SORT_AGGS, RunsModel, View, ViewState
from mmtop.tui.safe_text import safe
from mmtop.tui.screens.visibility import in_view
from mmtop.tui.widgets.filter_bar import FilterBar, FilterInput
from mmtop.tui.widgets.preview import RunPreview
from mmtop.tui.widgets.runs_table import RunsTable
from mmtop.tui.widgets.sidebar import ExperimentsSidebar
from mmtop.tui.widgets.status_bar import Status, StatusBar
from mmtop.tui.workers import ReportsFailedWorkers

if TYPE_CHECKING:
    from mmtop.store.records import Problem

Command = tuple[str, str, Callable[[], Any]]
TICK_EVERY = 0.4
MIN_RELOAD_GAP = 0.5


class RunsScreen(ReportsFailedWorkers, Screen[None]):
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="runs.filter"),
        # Priority: inside the filter bar ctrl+f would otherwise delete a word.
        Binding(
            "ctrl+f",
            "clear_filter",
            "Clear filter",
            show=False,
            id="runs.clear_filter",
            priority=True,
        ),
        Binding("enter", "open_run", "Open run", show=False, id="runs.open"),
        Binding("c", "compare", "Compare", id="runs.compare"),
        Binding("space", "toggle_mark", "Mark", id="runs.mark"),
        Binding("u", "clear_marks", "Unmark all", show=False, id="runs.unmark_all"),
        Binding("s", "sort_focused", "Sort", id="runs.sort"),
        Binding("r", "reverse_sort", "Reverse sort", show=False, id="runs.reverse"),
        Binding(
            "m", "cycle_metric_agg", "Sort metric by last/min/max", show=False, id="runs.metric_agg"
        ),
        Binding("C", "pick_columns", "Columns", id="runs.columns"),
        Binding("left_square_bracket", "toggle_sidebar", "Sidebar", id="runs.sidebar"),
        Binding("p", "toggle_preview", "Preview", show=False, id="runs.preview"),
        Binding("e", "export", "Export", id="runs.export"),
        Binding(
            "exclamation_mark", "show_problems", "Skipped files", show=False, id="runs.problems"
        ),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="runs.refresh"),
        Binding("tab", "app.focus_next", "Next pane", show=False, id="runs.focus_next"),
        Binding("A", "mark_all", "Mark all shown", show=False, id="runs.mark_all"),
        Binding("M", "show_models", "Models", show=False, id="runs.models"),
        Binding("D", "show_datasets", "Datasets", show=False, id="runs.datasets"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.model = RunsModel()
        self.state = ViewState()
        self.marks: set[str] = set()
        self.problems: list[Problem] = []
        self.load_seconds = 0.0
        self.loads = 0
        self._reload = Coalescer(self.load_runs)
        self._last_load = 0.0
        self._throttle: Timer | None = None
        self._message = ""
        self._preview_timer: Timer | None = None

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="topbar")
        with Horizontal(id="runs-body"):
            yield ExperimentsSidebar(id="sidebar")
            with Vertical(id="runs-main"):
                yield RunsTable(id="runs-table", now=host(self).now)
                yield RunPreview(id="preview", now=host(self).now)
        yield FilterBar(id="filter-bar")
        yield StatusBar(id="status-bar")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> RunsTable:
        return self.query_one(RunsTable)

    def on_mount(self) -> None:
        self.query_one("#sidebar").display = False
        self.table.focus()
        self._update_topbar()
        self.set_interval(TICK_EVERY, self._tick)
        self.request_reload()

    def _update_topbar(self) -> None:
        launch = host(self).launch
        text = safe(f"mmtop · {launch.root}", "bold", single_line=True)
        if host(self).read_only:
            text.append("  [read-only]", style="bold yellow")
        if launch.hint:
            text.append("  ")
            text.append_text(safe(launch.hint, "italic", single_line=True))
        self.query_one("#topbar", Static).update(text)

    # -- loading ------------------------------------------------------------------------

    def request_reload(self) -> None:
        self._reload.request()

    @work(thread=True, exclusive=True, group="runs-load", exit_on_error=False)
    def load_runs(self) -> None:
        start = time.perf_counter()
        try:
            store = host(self).get_store()
            frame = store.runs()
            problems = store.problems()
            if get_current_worker().is_cancelled:  # the app is quitting: skip the rest
                return
            model = RunsModel(frame)
            if get_current_worker().is_cancelled:
                return
            # The view (filter mask, columns, their widths) is worked out here, off the UI
            # thread: for a run with 100k metric keys that is seconds of work, and the UI
            # thread then only looks it up. A copy of the state: the user may change it.
            with contextlib.suppress(ValueError):  # a filter the data lacks: apply() says so
                model.compute(dataclasses.replace(self.state))
        except Exception as exc:  # noqa: BLE001 - any failed load is shown; the old table stays
            known = isinstance(exc, StoreError)
            self.post_message(LoadFailed(str(exc) if known else f"{type(exc).__name__}: {exc}"))
            return
        seconds = time.perf_counter() - start
        self.post_message(RunsLoaded(frame, model, problems, seconds))
        filter_check.preload()  # after the table is on its way: the filter bar's parser

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        self._last_load = time.monotonic()
        self.loads += 1
        self.load_seconds = message.seconds
        self.problems = message.problems
        self.model = message.model
        host(self).run_colours = self.model.colours
        self._message = ""
        live = [
            str(p)
            for p, s in zip(
                self.model.raw.get_column("path").to_list()
                if "path" in self.model.raw.columns
                else [],
                self.model.raw.get_column("status").to_list(),
                strict=False,
            )
            if s == "running"
        ]
        host(self).watch_live(live)
        raw = self.model.raw
        if "run_id" in raw.columns:
            # Only the statuses that can still move (a store of 100k ended runs costs
            # nothing here); one that moved on to an end is told by the screen that read it.
            moving = raw.filter(pl.col("status").is_in(["running", "crashed"]))
            ids, statuses = moving.get_column("run_id"), moving.get_column("status")
            host(self).saw_statuses(dict(zip(ids.to_list(), statuses.to_list(), strict=True)), self)
        self.query_one(FilterBar).set_fields(self.model.fields)
        self.query_one(ExperimentsSidebar).set_experiments(
            self.model.experiments(), self.state.experiment
        )
        if self.model.check_filter(self.state.filter_text) is not None:
            self.state.filter_text = ""  # a field the new data lacks: show everything
        self.apply()
        self._update_topbar()
        self.refresh_preview(self.table.current_run_id)  # a live run's numbers move
        self._reload.done()

    def on_load_failed(self, message: LoadFailed) -> None:
        self._last_load = time.monotonic()
        self._message = message.error
        self._update_status()
        self._reload.done()

    def on_store_changed(self, message: StoreChanged) -> None:
        # At most one watcher-driven load per MIN_RELOAD_GAP: a training job that writes
        # constantly must not keep a core busy re-reading the store.
        wait = MIN_RELOAD_GAP - (time.monotonic() - self._last_load)
        if wait <= 0:
            self.request_reload()
        elif self._throttle is None:
            self._throttle = self.set_timer(wait, self._throttled_reload)

    def _throttled_reload(self) -> None:
        self._throttle = None
        self.request_reload()

    def on_live_tick(self, _: LiveTick) -> None:
        if self.model.running() and in_view(self):
            self.request_reload()

    def on_screen_resume(self) -> None:
        # Back from another screen: a live run may have ended or died meanwhile (the detail
        # screen may already say so); read the store at once rather than at the next tick.
        if self.loads and self.model.running():
            self.request_reload()

    def _tick(self) -> None:
        # Between reloads: the live glyphs turn, and ages and live durations move on the
        # clock alone (tui/formatting.live_duration); nothing is read.
        if self.model.running() and in_view(self):
            self.table.tick()
            self.query_one(RunPreview).tick()

    # -- applying the view ----------------------------------------------------------------

    def apply(self, keep: str | None = None) -> bool:
        """Recompute and show the view; False (and nothing changes) if the filter is bad."""
        table = self.table
        keep = keep or table.current_run_id
        try:
            view = self.model.compute(self.state)
        except ValueError as exc:
            self.query_one(FilterBar).show_error(str(exc))
            return False
        table.marks = self.marks
        table.empty_text = self._why_empty(len(view))
        table.set_view(
            self.model,
            view,
            sort_key=self.state.sort_key,
            descending=self.state.descending,
            keep=keep,
        )
        self._update_status()
        return True

    def _why_empty(self, shown: int) -> str:
        """What the table says when it shows no run: why, and the key that brings them back."""
        if shown or self.model.total == 0:
            return "" if shown else "no runs in this store yet"
        experiment = self.state.experiment
        in_experiment = (
            dict(self.model.experiments()).get(experiment, 0) if experiment is not None else 0
        )
        if experiment is not None and self.state.filter_text and in_experiment:
            return f"filter hides all {in_experiment} {experiment} runs: ctrl+f clears it"
        if experiment is not None and not in_experiment:
            return f"no {experiment} runs any more: [ picks another experiment"
        return "no run matches the filter: ctrl+f clears it"

    def _update_status(self) -> None:
        table = self.table
        sort = label(self.state.sort_key) or self.state.sort_key
        if self.state.sort_key == "created":
            sort = "age"
        if self.state.sort_key.startswith("metrics.") and self.state.metric_agg != "last":
            sort += f" ({self.state.metric_agg})"
        sort += " ▼" if self.state.descending else " ▲"
        message = self._message
        if self.state.experiment is not None:
            message = f"experiment: {self.state.experiment} {message}".strip()
        self.query_one(StatusBar).show(
            Status(
                total=self.model.total,
                shown=len(table.view),
                running=self.model.running(),
                marked=len(self.marks),
                watch=host(self).watch_mode,
                skipped=len(self.problems),
                sort=sort,
                read_only=host(self).read_only,
                loading=self._reload.busy and self.loads == 0,
                message=message,
            )
        )

    # -- filter -------------------------------------------------------------------------

    @on(Input.Changed, "#filter-input")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.set_filter(event.value)

    def set_filter(self, text: str) -> bool:
        bar = self.query_one(FilterBar)
        error = self.model.check_filter(text) or self._name_half_typed(text)
        if error is not None:
            bar.show_error(error)
            return False
        bar.show_error(None)
        if text != self.state.filter_text:
            self.state.filter_text = text
            self.apply()
        return True

    def _name_half_typed(self, text: str) -> str | None:
        """`params` on the way to `params.lr > 0.005` is a word search that finds nothing:
        rather than an empty table, the last result stays while a name is typed."""
        if classify(text).kind != "search" or not candidates(text, len(text), self.model.fields):
            return None
        found = self.model.filter_mask(text)
        if found is None or found.any():
            return None
        return "incomplete: a field name is being typed (tab completes it); no run has these words"

    @on(Input.Submitted, "#filter-input")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self.set_filter(event.value):
            self.query_one(FilterBar).history.push(event.value)
            self.table.focus()

    def on_filter_bar_cleared(self, _: FilterBar.Cleared) -> None:
        self.action_clear_filter()

    def action_focus_filter(self) -> None:
        # At once, not after the next refresh (Widget.focus): keys typed or pasted right
        # after `/` must land in the filter, not run as table commands.
        self.app.set_focus(self.query_one(FilterInput))

    def action_clear_filter(self) -> None:
        self.query_one(FilterInput).value = ""
        self.set_filter("")
        self.table.focus()

    # -- sorting ------------------------------------------------------------------------

    def sort_by(self, key: str, descending: bool | None = None) -> None:
        if descending is None:
            if key == self.state.sort_key:
                descending = not self.state.descending
            else:
                column = self.model.column(key) if key in self.model.flat.columns else None
                descending = column is not None and column.kind in ("age", "int", "number")
        self.state.sort_key = key
        self.state.descending = descending
        self.apply()

    def action_sort_focused(self) -> None:
        column = self.table.current_column
        if column is not None:
            self.sort_by(column.key)

    def action_reverse_sort(self) -> None:
        self.state.descending = not self.state.descending
        self.apply()

    def action_cycle_metric_agg(self) -> None:
        i = SORT_AGGS.index(self.state.metric_agg)
        self.state.metric_agg = SORT_AGGS[(i + 1) % len(SORT_AGGS)]
        self.apply()
        self.notify(f"metric columns sort by their {self.state.metric_agg} value")

    def on_runs_table_header_clicked(self, message: RunsTable.HeaderClicked) -> None:
        self.sort_by(message.key)

    # -- marks --------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        run_id = self.table.current_run_id
        if run_id is None:
            return
        self.marks.symmetric_difference_update({run_id})
        self.table.invalidate()
        self.table.action_cursor_down()
        self._update_status()

    def action_clear_marks(self) -> None:
        self.marks.clear()
        self.table.invalidate()
        self._update_status()

    def action_mark_all(self) -> None:
        self.marks.update(self.table.visible_ids())
        self.table.invalidate()
        self._update_status()

    # -- panes --------------------------------------------------------------------------

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one(ExperimentsSidebar)
        sidebar.display = not sidebar.display
        if sidebar.display:
            self.call_after_refresh(sidebar.focus)  # focusable once it is laid out
        else:
            self.table.focus()

    def on_experiments_sidebar_chosen(self, message: ExperimentsSidebar.Chosen) -> None:
        self.state.experiment = message.experiment
        self.apply()
        self.table.focus()

    def action_toggle_preview(self) -> None:
        preview = self.query_one(RunPreview)
        preview.display = not preview.display

    def on_runs_table_highlighted(self, message: RunsTable.Highlighted) -> None:
        self.refresh_preview(message.run_id)

    def refresh_preview(self, run_id: str | None) -> None:
        """Show `run_id` in the preview: on a cursor move, and after a reload (live runs)."""
        preview = self.query_one(RunPreview)
        if not preview.display:
            return
        colour = self.model.colours.get(run_id) if run_id else None
        preview.show(self.model.record(run_id) if run_id else None, colour)
        if self._preview_timer is not None:
            self._preview_timer.stop()
        if run_id and preview.spark_keys:
            keys = list(preview.spark_keys)
            # Holding j should not start a history read per row: wait for the cursor to rest.
            self._preview_timer = self.set_timer(0.15, lambda: self.load_preview(run_id, keys))

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def load_preview(self, run_id: str, keys: list[str]) -> None:
        try:
            frame = host(self).get_store().history([run_id], keys=keys, max_points=120)
        except (Exception, pl.exceptions.PanicException):  # noqa: BLE001 - a sparkline is optional
            return
        self.post_message(HistoryLoaded(run_id, frame))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self.query_one(RunPreview).show_history(message.run_id, message.frame)

    # -- other screens --------------------------------------------------------------------

    def action_open_run(self) -> None:
        run_id = self.table.current_run_id
        if run_id:
            self.open_run(run_id)

    def on_runs_table_opened(self, message: RunsTable.Opened) -> None:
        self.open_run(message.run_id)

    def open_run(self, run_id: str) -> None:
        from mmtop.tui.screens.detail import RunDetailScreen

        self.app.push_screen(RunDetailScreen(run_id))

    def action_compare(self) -> None:
        """Compare the marked runs (2 or more), else every run the filter shows."""
        from mmtop.tui.screens.compare import CompareScreen

        shown = self.table.visible_ids()
        marked = [run_id for run_id in shown if run_id in self.marks]
        run_ids = marked if len(marked) >= 2 else shown
        if not run_ids:
            self.notify("no runs to compare", severity="warning")
            return
        self.app.push_screen(CompareScreen(host(self).get_store(), run_ids))

    def action_show_models(self) -> None:
        from mmtop.tui.screens.models import ModelsScreen

        self.app.push_screen(ModelsScreen())

    def action_show_datasets(self) -> None:
        from mmtop.tui.screens.datasets import DatasetsScreen

        self.app.push_screen(DatasetsScreen())

    def action_pick_columns(self) -> None:
        from mmtop.tui.screens.columns import ColumnPicker

        shown = [c.key for c in self.table.columns]

        def chosen(choice: ColumnChoice | None) -> None:
            if choice is not None:
                self.state.choice = choice
                self.apply()

        self.app.push_screen(
            ColumnPicker(self.model.candidates(), shown, self.state.choice), chosen
        )

    def action_show_problems(self) -> None:
        from mmtop.tui.screens.problems import ProblemsScreen

        app = host(self)
        # Problems name files as the reader met them: in the local mirror for a store on S3.
        root = str(app.get_store().root if isinstance(app.launch.root, str) else app.launch.root)
        self.app.push_screen(ProblemsScreen(self.problems, root))

    def action_refresh(self) -> None:
        self.request_reload()

    def action_export(self) -> None:
        from mmtop.tui.screens.prompt import PromptScreen

        def write(target: Path) -> None:
            # What is shown is read here, on the UI thread; the worker gets a snapshot.
            table = self.table
            marked = self._marked_shown()
            self.export_csv(str(target), self.model, table.view, list(table.columns), marked)

        def chosen(path: str | None) -> None:
            if not path or not path.strip():
                return
            target = Path(path.strip()).expanduser().absolute()
            if not target.exists():
                write(target)
                return

            def confirmed(answer: str | None) -> None:
                if answer is not None and answer.strip().lower() in ("y", "yes"):
                    write(target)
                else:
                    self.notify(f"not exported: {target} kept as it was", markup=False)

            self.app.push_screen(
                PromptScreen(
                    "replace this file?",
                    "",
                    f"{target} exists: type y and enter to replace it; esc keeps it",
                ),
                confirmed,
            )

        marked = self._marked_shown()
        if marked:
            title = f"export the {len(marked)} marked runs to CSV"
            hint = "columns and sort as shown; raw values (u unmarks all to export every row)"
        else:
            title = f"export {len(self.table.view)} rows to CSV"
            hint = "columns, filter and sort as shown; raw values"
        default = str(Path("runs.csv").absolute())
        self.app.push_screen(PromptScreen(title, default, hint), chosen)

    def _marked_shown(self) -> set[str]:
        return self.marks.intersection(self.table.visible_ids()) if self.marks else set()

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export_csv(
        self, path: str, model: RunsModel, view: View, columns: list[Column], marked: set[str]
    ) -> None:
        try:
            frame = export_frame(model, view, columns, marked)
            rows = write_csv(frame, path)
        except Exception as exc:  # noqa: BLE001 - disk full, no permission: report it
            self.post_message(ExportFinished(path, 0, str(exc)))
            return
        self.post_message(ExportFinished(path, rows))

    def on_export_finished(self, message: ExportFinished) -> None:
        if message.error:
            self.notify(f"export failed: {message.error}", severity="error", markup=False)
        else:
            self.notify(f"wrote {message.rows} rows to {message.path}", markup=False)

    def action_show_help(self) -> None:
        from mmtop.tui.screens.help import HelpScreen, section

        self.app.push_screen(
            HelpScreen(
                "runs",
                [
                    section("runs", self.BINDINGS),
                    section("table", RunsTable.BINDINGS),
                    section("filter bar", FilterInput.BINDINGS),
                    section("everywhere", self.app.BINDINGS),
                    ("", [("ctrl+p", "Command palette: every action by name")]),
                ],
            )
        )

    def palette_commands(self) -> Iterator[Command]:
        yield ("runs: filter", "Focus the filter bar", self.action_focus_filter)
        yield ("runs: clear filter", "Show every run", self.action_clear_filter)
        yield ("runs: open", "Open the highlighted run", self.action_open_run)
        yield ("runs: compare", "Compare marked runs, else every shown run", self.action_compare)
        yield ("models: open registry", "Model versions, aliases, lineage", self.action_show_models)
        yield (
            "datasets: open registry",
            "Dataset versions, what changed, who used them",
            self.action_show_datasets,
        )
        yield ("runs: mark", "Mark or unmark the highlighted run", self.action_toggle_mark)
        yield ("runs: mark all shown", "Mark every shown run", self.action_mark_all)
        yield ("runs: unmark all", "Clear every mark", self.action_clear_marks)
        yield ("runs: reverse sort", "Flip the sort direction", self.action_reverse_sort)
        for agg in SORT_AGGS:
            yield (
                f"runs: sort metrics by {agg} value",
                "Which summary a metric column sorts by",
                partial(self._set_agg, agg),
            )
        for column in self.table.columns:
            name = column.label or column.key
            yield (f"runs: sort by {name}", column.key, partial(self.sort_by, column.key))
        yield ("runs: pick columns", "Choose columns by regex or by hand", self.action_pick_columns)
        yield (
            "runs: automatic columns",
            "Differing params and present metrics",
            lambda: self._set_choice(ColumnChoice()),
        )
        yield ("runs: export CSV", "Write the visible table to a CSV file", self.action_export)
        yield ("runs: refresh", "Read the store again", self.action_refresh)
        yield ("runs: skipped files", "Files the reader could not use", self.action_show_problems)
        yield ("view: toggle sidebar", "Experiments with run counts", self.action_toggle_sidebar)
        yield ("view: toggle preview", "The highlighted run's summary", self.action_toggle_preview)

    def _set_agg(self, agg: str) -> None:
        self.state.metric_agg = agg
        self.apply()

    def _set_choice(self, choice: ColumnChoice) -> None:
        self.state.choice = choice
        self.apply()
