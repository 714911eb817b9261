"""The run detail screen: one run's overview, params, charts, tables, files, env, code, console.

Each read runs in a thread worker and arrives as a message; while the run is live, store
changes reload it (one load in flight, one pending). Tag edits and comments go through the
store API, in a worker, and fail with a clear message on a read-only store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane
from textual.widgets.tabbed_content import ContentTabs

from mmtop.tui.coalesce import Coalescer
from mmtop.tui.formatting import STATUS_STYLES, fmt_duration, live_duration, status_glyph
from mmtop.tui.host import host
from mmtop.tui.messages import (
    ConsoleRead,
    HistoryLoaded,
    LiveTick,
    LoadFailed,
    ReproducePlanned,
    RunDetailLoaded,
    StoreChanged,
    StoreWritten,
    TableRead,
)
from mmtop.tui.run_extras import RunExtras, TableRef, console_tail, gather, read_table
from mmtop.tui.safe_text import safe
from mmtop.tui.screens.keys import MOVE_BINDINGS, MOVE_HELP, move_focused
from mmtop.tui.screens.visibility import in_view
from mmtop.tui.widgets.artifacts_view import ArtifactsView
from mmtop.tui.widgets.code_view import CodeView
from mmtop.tui.widgets.console_view import ConsoleView
from mmtop.tui.widgets.env_view import EnvView
from mmtop.tui.widgets.metric_grid import MetricGrid
from mmtop.tui.widgets.overview import OverviewPane
from mmtop.tui.widgets.params_tree import ParamsTree
from mmtop.tui.widgets.tables_view import TablesView
from mmtop.tui.workers import ReportsFailedWorkers

if TYPE_CHECKING:
    from mmtop.store.runinfo import RunInfo

TABS = [
    ("overview", "Overview"),
    ("params", "Params"),
    ("metrics", "Metrics"),
    ("system", "System"),
    ("tables", "Tables"),
    ("artifacts", "Artifacts"),
    ("env", "Env"),
    ("code", "Code"),
    ("console", "Console"),
]
MAX_CHART_POINTS = 4000
TICK_EVERY = 0.5  # ages and durations of a live run, drawn from the clock (no read)
Command = tuple[str, str, Any]


def _shown(widget: Widget, top: Widget) -> bool:
    """`widget` and its ancestors up to `top` are displayed."""
    node: Any = widget
    while node is not None and node is not top:
        if not node.display:
            return False
        node = node.parent
    return True


def split_tags(text: str) -> list[str]:
    """`a, b c` -> ["a", "b", "c"]: commas or spaces separate tags; duplicates dropped."""
    seen: dict[str, None] = {}
    for part in text.replace(",", " ").split():
        seen.setdefault(part.strip(), None)
    return [t for t in seen if t]


class RunDetailScreen(ReportsFailedWorkers, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("t", "edit_tags", "Tags", id="detail.tags"),
        Binding("n", "add_comment", "Comment", id="detail.comment"),
        Binding("R", "reproduce", "Reproduce", id="detail.reproduce"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="detail.refresh"),
        Binding("slash", "search", "Search", show=False, id="detail.search"),
        *[
            Binding(str(i + 1), f"tab('{tab}')", label, show=False, id=f"detail.tab_{tab}")
            for i, (tab, label) in enumerate(TABS)
        ],
        *MOVE_BINDINGS,
    ]
    # Below this width the tab bar drops its right padding and says Files for Artifacts,
    # so that `9 Console` stays on screen at 80 columns.
    NARROW_TABS = 92

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.info: RunInfo | None = None
        self.extras = RunExtras()
        self.loads = 0
        self.history_loads = 0
        self._detail = Coalescer(self.load_detail)

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="detail-head")
        with TabbedContent(id="detail-tabs", initial="overview"):
            with TabPane("1 Overview", id="overview"):
                yield OverviewPane(id="overview-pane", now=host(self).now)
            with TabPane("2 Params", id="params"):
                yield ParamsTree(id="params-pane")
            with TabPane("3 Metrics", id="metrics"):
                yield MetricGrid("nothing logged: no metrics for this run", id="metrics-pane")
            with TabPane("4 System", id="system"):
                yield MetricGrid("nothing logged: no system samples for this run", id="system-pane")
            with TabPane("5 Tables", id="tables"):
                yield TablesView(id="tables-pane")
            with TabPane("6 Artifacts", id="artifacts"):
                yield ArtifactsView(id="artifacts-pane")
            with TabPane("7 Env", id="env"):
                yield EnvView(id="env-pane")
            with TabPane("8 Code", id="code"):
                yield CodeView(id="code-pane")
            with TabPane("9 Console", id="console"):
                yield ConsoleView(id="console-pane")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._detail.request()
        self.set_interval(TICK_EVERY, self._tick)

    def _tick(self) -> None:
        # Between reloads a live run's ages and duration move on the clock alone.
        if self.info is not None and self.info.status == "running" and in_view(self):
            self.query_one(OverviewPane).tick()
            self._show_head(self.info)

    def on_live_tick(self, _: LiveTick) -> None:
        # Also because polling watchers see folders, not appends to console.log.
        if self.info is not None and self.info.status == "running" and in_view(self):
            self._detail.request()

    # -- loading ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load_detail(self) -> None:
        try:
            store = host(self).get_store()
            info = store.run(self.run_id)
            extras = gather(info)
            history = store.history([self.run_id], max_points=MAX_CHART_POINTS)
            system = store.history([self.run_id], max_points=MAX_CHART_POINTS, system=True)
            lines, error = console_tail(info)
        # A Rust panic in polars is a BaseException: caught too, or "loading…" stays forever.
        except (Exception, pl.exceptions.PanicException) as exc:  # noqa: BLE001 - say why
            self.post_message(LoadFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(RunDetailLoaded(self.run_id, info, extras))
        self.post_message(HistoryLoaded(self.run_id, history))
        self.post_message(HistoryLoaded(self.run_id, system, system=True))
        self.post_message(ConsoleRead(self.run_id, "\n".join(lines) if not error else ""))
        if error:
            self.post_message(StoreWritten("console", error))

    def on_run_detail_loaded(self, message: RunDetailLoaded) -> None:
        before_info, before = self.info, self.extras
        info = self.info = message.info
        self.extras = message.extras
        first = before_info is None
        self.loads += 1
        host(self).saw_statuses({self.run_id: str(info.status)}, self)
        self._show_head(info)
        root = getattr(self.app, "launch", None)
        self.query_one(OverviewPane).show(info, self.extras, root.root if root else None)
        # A live run reloads every few seconds: panes whose data did not change are left
        # alone so that the tree's folds, the scroll positions and the searches stay put.
        if before_info is None or before_info.params != info.params:
            self.query_one(ParamsTree).show(info.params or {})
        if first or (before.artifacts, before.inputs) != (
            self.extras.artifacts,
            self.extras.inputs,
        ):
            self.query_one(ArtifactsView).show(self.extras.artifacts, self.extras.inputs)
        if first or before.env != self.extras.env:
            self.query_one(EnvView).show(self.extras.env)
        if first or (before.code, before.patch) != (self.extras.code, self.extras.patch):
            self.query_one(CodeView).show(self.extras.code, self.extras.patch)
        if first or [r.name for r in self.extras.tables] != [r.name for r in before.tables]:
            self.query_one(TablesView).set_tables(self.extras.tables)

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        name = self.info.name if self.info is not None else self.run_id
        pane = "#system-pane" if message.system else "#metrics-pane"
        colour = host(self).run_colours.get(self.run_id)
        self.query_one(pane, MetricGrid).show(message.frame, name, colour)
        if not message.system:
            self.history_loads += 1
            self._detail.done()

    def on_console_read(self, message: ConsoleRead) -> None:
        lines = message.text.split("\n") if message.text else []
        self.query_one(ConsoleView).show(lines)

    def on_store_written(self, message: StoreWritten) -> None:
        if message.what == "console":
            self.query_one(ConsoleView).show([], message.error)
        elif message.error:
            self.notify(message.error, title=message.what, severity="error", markup=False)
        else:
            self.notify(f"{message.what}: saved", markup=False)
            self._detail.request()

    def on_load_failed(self, message: LoadFailed) -> None:
        self._detail.done()
        self.query_one("#detail-head", Static).update(safe(message.error, "bold red"))

    def on_table_read(self, message: TableRead) -> None:
        self.query_one(TablesView).show_table(message.ref, message.data, message.error)

    def on_store_changed(self, _: StoreChanged) -> None:
        if in_view(self):
            self._detail.request()

    def on_tables_view_chosen(self, message: TablesView.Chosen) -> None:
        self.load_table(message.ref)

    @work(thread=True, exclusive=True, group="table", exit_on_error=False)
    def load_table(self, ref: TableRef) -> None:
        data, error = read_table(self.info, ref)
        self.post_message(TableRead(ref, data, error))

    def _show_head(self, info: RunInfo) -> None:
        status = str(info.status)
        head = Text.assemble(
            (f"{status_glyph(status)} {status}", STATUS_STYLES.get(status, "")), "  "
        )
        head.append_text(safe(info.name, "bold", single_line=True))
        head.append("  ")
        head.append_text(safe(f"{info.experiment} / {info.run_id}", "dim", single_line=True))
        duration = live_duration(status, info.created, info.duration_s, host(self).now())
        if duration is not None:
            head.append(f"  {fmt_duration(duration)}")
        if info.tags:
            head.append("  ")
            head.append_text(safe(", ".join(info.tags), "magenta", single_line=True))
        self.query_one("#detail-head", Static).update(head)

    # -- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_tab(self, tab: str) -> None:
        """Show `tab` and focus what it holds (its chart, tree, list or text; never its search
        box, where letters would become text). Focus left in the old tab would pull the
        tab bar back to it."""
        self.query_one(TabbedContent).active = tab
        pane = self.query_one(f"TabPane#{tab}")
        for widget in pane.query("*"):
            if widget.can_focus and not isinstance(widget, Input) and _shown(widget, pane):
                widget.focus()
                return
        self.query_one(ContentTabs).focus()

    def action_search(self) -> None:
        """`/` from anywhere: the search of the tab shown (params, packages, chart keys), or
        the Metrics filter from a tab without one."""
        tab = str(self.query_one(TabbedContent).active)
        panes = {"params": "#params-pane", "system": "#system-pane", "env": "#env-pane"}
        if tab not in panes:
            self.action_tab("metrics")
        pane: Any = self.query_one(panes.get(tab, "#metrics-pane"))
        pane.action_search()

    def action_move(self, direction: int) -> None:
        move_focused(self, direction)

    def on_resize(self) -> None:
        narrow = self.size.width < self.NARROW_TABS
        if narrow != self.has_class("-narrow-tabs"):
            self.set_class(narrow, "-narrow-tabs")
            tab = self.query_one(TabbedContent).get_tab("artifacts")
            tab.label = "6 Files" if narrow else "6 Artifacts"

    def action_refresh(self) -> None:
        self._detail.request()

    def _why_read_only(self) -> str | None:
        app: Any = self.app
        if app.launch.source == "sample":
            return "the bundled sample runs are read-only; log your own runs to edit them"
        if app.read_only:
            return f"the store at {app.launch.root} is read-only (no write permission)"
        return None

    def action_edit_tags(self) -> None:
        from mmtop.tui.screens.prompt import PromptScreen

        if self.info is None:
            return
        why = self._why_read_only()
        if why:
            self.notify(f"cannot edit tags: {why}", severity="warning", markup=False)
            return
        before = list(self.info.tags)

        def chosen(text: str | None) -> None:
            if text is not None:
                after = split_tags(text)
                self.write_tags(
                    [t for t in after if t not in before], [t for t in before if t not in after]
                )

        self.app.push_screen(
            PromptScreen("tags (comma or space separated)", ", ".join(before)), chosen
        )

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def write_tags(self, added: list[str], removed: list[str]) -> None:
        try:
            store = host(self).get_store()
            if added:
                store.add_tags(self.run_id, added)
            if removed:
                store.remove_tags(self.run_id, removed)
        except Exception as exc:  # noqa: BLE001 - read-only, bad tag text, API missing: say so
            self.post_message(StoreWritten("tags", f"cannot edit tags: {exc}"))
            return
        self.post_message(StoreWritten("tags"))

    def action_add_comment(self) -> None:
        from mmtop.tui.screens.prompt import PromptScreen

        if self.info is None:
            return
        why = self._why_read_only()
        if why:
            self.notify(f"cannot add a comment: {why}", severity="warning", markup=False)
            return

        def chosen(text: str | None) -> None:
            if text and text.strip():
                self.write_comment(text.strip())

        self.app.push_screen(PromptScreen("add a comment to this run", ""), chosen)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def write_comment(self, text: str) -> None:
        try:
            host(self).get_store().comment(self.run_id, text)
        except Exception as exc:  # noqa: BLE001 - read-only, API missing: say so
            self.post_message(StoreWritten("comment", f"cannot add a comment: {exc}"))
            return
        self.post_message(StoreWritten("comment"))

    def action_reproduce(self) -> None:
        self.plan_reproduce()

    @work(thread=True, exclusive=True, group="reproduce", exit_on_error=False)
    def plan_reproduce(self) -> None:
        import shlex

        from mmtop.tui.reproduce_plan import plan

        try:
            store = host(self).get_store()
            found = plan(store.run(self.run_id))
        except Exception as exc:  # noqa: BLE001 - shown as a notification, never a crash
            self.post_message(ReproducePlanned(None, "", f"{type(exc).__name__}: {exc}"))
            return
        root = str(store.root)
        command = shlex.join(["mmtop", "reproduce", self.run_id, "--root", root])
        self.post_message(ReproducePlanned(found, command))

    def on_reproduce_planned(self, message: ReproducePlanned) -> None:
        from mmtop.tui.screens.reproduce import ReproduceScreen

        if message.error is not None or message.plan is None:
            error = message.error or "no plan"
            self.notify(error, title="reproduce", severity="error", markup=False)
            return
        self.app.copy_to_clipboard(message.command)
        self.app.push_screen(ReproduceScreen(message.plan, message.command))

    def action_show_help(self) -> None:
        from mmtop.tui.screens.help import HelpScreen, section
        from mmtop.tui.widgets.chart import MetricChart
        from mmtop.tui.widgets.frame_table import FrameTable

        self.app.push_screen(
            HelpScreen(
                "run detail",
                [
                    section("run", self.BINDINGS[:5]),
                    ("tabs", [(str(i + 1), label) for i, (_, label) in enumerate(TABS)]),
                    section("charts (metrics, system)", MetricChart.BINDINGS),
                    section("tables and packages", FrameTable.BINDINGS),
                    (
                        "search",
                        [
                            (
                                "/",
                                "Search params, packages or chart keys (elsewhere: Metrics filter)",
                            )
                        ],
                    ),
                    MOVE_HELP,
                    section("everywhere", self.app.BINDINGS),
                ],
            )
        )

    def palette_commands(self) -> Iterator[Command]:
        yield ("run: back to runs", "Close this run", self.action_back)
        yield ("run: edit tags", "Add or remove tags", self.action_edit_tags)
        yield ("run: add comment", "Write a comment on this run", self.action_add_comment)
        yield ("run: refresh", "Read this run again", self.action_refresh)
        yield (
            "run: reproduce",
            "What `mmtop reproduce` would rebuild; copies its command line",
            self.action_reproduce,
        )
        for tab, label in TABS:
            yield (
                f"run: show {label.lower()}",
                f"Switch to the {label} tab",
                lambda tab=tab: self.action_tab(tab),
            )
