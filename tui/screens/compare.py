"""The compare screen: params diff, metrics against a baseline, overlaid charts, env/code/data.

`CompareScreen(store, run_ids)` works for two runs or hundreds. A thread worker reads the
runs' params, summaries, env, code and inputs and posts `CompareRunsLoaded`, so the tables
paint at once; the chart grids then read, in workers of their own, the histories of the
keys their page shows, downsampled to a few points per pixel (grouped: mean ± std curves).
Store changes reload, one load in flight at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from mmtop.tui import diffing, grouping
from mmtop.tui.charting import palette_colors
from mmtop.tui.coalesce import Coalescer
from mmtop.tui.compare_data import CompareData, read_compare
from mmtop.tui.compare_series import ChartSource
from mmtop.tui.formatting import fit
from mmtop.tui.host import host
from mmtop.tui.messages import StoreChanged
from mmtop.tui.run_colours import distinct
from mmtop.tui.safe_text import safe
from mmtop.tui.screens.keys import MOVE_BINDINGS, MOVE_HELP, move_focused
from mmtop.tui.screens.visibility import in_view
from mmtop.tui.widgets.compare_charts import ChartsGrid
from mmtop.tui.widgets.compare_env import EnvDiff, EnvDiffPane, env_diff
from mmtop.tui.widgets.compare_grouping import NO_GROUPING, GroupPicker
from mmtop.tui.widgets.compare_metrics import MetricsDeltaPane
from mmtop.tui.widgets.compare_params import ParamsDiffPane
from mmtop.tui.widgets.compare_table import CompareTable
from mmtop.tui.widgets.sweep_plot import SweepPlot
from mmtop.tui.workers import ReportsFailedWorkers

TABS = [
    ("params", "Params"),
    ("metrics", "Metrics"),
    ("charts", "Charts"),
    ("system", "System"),
    ("env", "Env·code·data"),
    ("sweep", "Sweep"),
]
# Min/max downsampling keeps 2 points per bucket: 2 per braille pixel is one bucket per
# pixel column, all a chart can show (about 4 points per cell of chart width).
POINTS_PER_PIXEL = 2
# `d` cycles a metric through these, then back to the guess from its name (no override).
DIRECTIONS: tuple[diffing.Direction, ...] = ("lower", "higher", None)
Command = tuple[str, str, Callable[[], Any]]


@dataclass
class CompareRunsLoaded(Message):
    data: CompareData
    env: EnvDiff  # differences only, computed off the UI thread


@dataclass
class CompareFailed(Message):
    error: str


class CompareScreen(ReportsFailedWorkers, Screen[None]):
    CSS_PATH = str(Path(__file__).resolve().parent.parent / "compare.tcss")  # subclass-proof
    AUTO_FOCUS = "#params-table"
    BINDINGS = [
        Binding("escape", "back", "Back", id="compare.back"),
        Binding("b", "baseline", "Baseline", id="compare.baseline"),
        Binding("a", "toggle_all", "All/diff only", id="compare.all"),
        Binding("G", "group", "Group", id="compare.group"),
        Binding("d", "direction", "Better direction", show=False, id="compare.direction"),
        Binding("slash", "filter", "Filter keys", id="compare.filter"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="compare.refresh"),
        *[
            Binding(str(i + 1), f"tab('{tab}')", label, show=False, id=f"compare.tab_{tab}")
            for i, (tab, label) in enumerate(TABS)
        ],
        *MOVE_BINDINGS,
    ]

    def __init__(self, store: Any, run_ids: list[str]) -> None:
        super().__init__()
        self.store = store
        self.requested = list(run_ids)
        self.data: CompareData | None = None
        self.env: EnvDiff | None = None
        self.baseline = 0
        self.show_all = False
        self.patterns: dict[str, re.Pattern[str] | None] = {tab: None for tab, _ in TABS}
        self.grouping = NO_GROUPING
        self.groups: list[grouping.Group] = []
        self.overrides: dict[str, diffing.Direction] = {}  # None: explicitly no direction
        self.loads = 0
        self._missed_change = False
        self._metric_rows: list[diffing.MetricRow] = []
        self._loader = Coalescer(self._start_load)

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Text(f"comparing {len(self.requested)} runs: loading…"), id="compare-head")
        with TabbedContent(id="compare-tabs", initial="params"):
            with TabPane("1 Params", id="params"):
                yield ParamsDiffPane(id="params-pane")
            with TabPane("2 Metrics", id="metrics"):
                yield MetricsDeltaPane(id="metrics-pane")
            with TabPane("3 Charts", id="charts"):
                yield ChartsGrid("no metrics logged by these runs", id="metric-charts")
            with TabPane("4 System", id="system"):
                yield ChartsGrid("no system samples for these runs", id="system-charts")
            with TabPane("5 Env·code·data", id="env"):
                yield EnvDiffPane(id="env-pane")
            with TabPane("6 Sweep", id="sweep"):
                yield SweepPlot(id="sweep-plot")
        filter_input = Input(placeholder="regex over keys of this tab", id="compare-filter")
        filter_input.display = False
        yield filter_input
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._loader.request()

    @property
    def active_tab(self) -> str:
        return str(self.query_one(TabbedContent).active)

    # -- loading ------------------------------------------------------------------------

    def _start_load(self) -> None:
        self.load()

    def _max_points(self) -> int:
        """A few points per braille pixel of a chart (half the screen wide, 2 px per cell)."""
        width = max(self.app.size.width, 80)
        return POINTS_PER_PIXEL * 2 * (width // 2)

    @work(thread=True, exclusive=True, group="compare-load", exit_on_error=False)
    def load(self) -> None:
        try:
            data = read_compare(self.store, self.requested)
            env = env_diff(data.envs, data.codes, data.inputs)
        except Exception as exc:  # noqa: BLE001 - unreadable store: say why and stay usable
            self.post_message(CompareFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(CompareRunsLoaded(data, env))

    def on_compare_runs_loaded(self, message: CompareRunsLoaded) -> None:
        before = self.data.run_ids if self.data is not None else None
        self.data = message.data
        self.loads += 1
        self._loader.done()
        if before is not None and before != self.data.run_ids:
            self.baseline = 0
        self.baseline = min(self.baseline, max(0, len(self.data.run_ids) - 1))
        self.env = message.env
        self._regroup()
        self._refresh_tables()
        self._configure_charts(clear=before is not None and before != self.data.run_ids)

    def on_compare_failed(self, message: CompareFailed) -> None:
        self._loader.done()
        self.notify(message.error, title="compare", severity="error", markup=False)
        self.query_one("#compare-head", Static).update(safe(message.error, "bold red"))

    def on_store_changed(self, _: StoreChanged) -> None:
        if in_view(self):
            self._loader.request()
        else:
            self._missed_change = True  # hidden: read again when shown

    def on_screen_resume(self) -> None:
        if self._missed_change:
            self._missed_change = False
            self._loader.request()

    # -- painting -----------------------------------------------------------------------

    def _regroup(self) -> None:
        data = self.data
        if data is None or self.grouping == NO_GROUPING:
            self.groups = []
            return
        self.groups = grouping.group_runs(data.params, self.grouping)

    def _refresh_tables(self) -> None:
        data = self.data
        if data is None:
            return
        self._show_head()
        self.query_one(ParamsDiffPane).show(
            data.labels,
            data.params,
            self.baseline,
            show_all=self.show_all,
            pattern=self.patterns["params"],
        )
        self._show_metrics()
        if self.env is not None:
            if self.show_all:
                diff = env_diff(data.envs, data.codes, data.inputs, show_all=True)
            else:
                diff = self.env
            self.query_one(EnvDiffPane).show(
                data.labels, diff, self.baseline, pattern=self.patterns["env"]
            )

    def _show_metrics(self) -> None:
        data = self.data
        assert data is not None
        rules: list[tuple[str | re.Pattern[str], diffing.Direction]] = [
            (f"^{re.escape(k)}$", v) for k, v in self.overrides.items()
        ]
        pane = self.query_one(MetricsDeltaPane)
        pattern = self.patterns["metrics"]
        if self.groups:
            per_group = grouping.group_stats(data.stats, self.groups)
            base = self._baseline_group()
            rows = diffing.metric_rows(grouping.group_means(per_group), base, overrides=rules)
            labels = [f"{g.label} (n={g.n})" for g in self.groups]
            self._metric_rows = pane.show(
                labels, rows, base, pattern=pattern, groups=per_group, overridden=self.overrides
            )
        else:
            rows = diffing.metric_rows(data.stats, self.baseline, overrides=rules)
            self._metric_rows = pane.show(
                data.labels, rows, self.baseline, pattern=pattern, overridden=self.overrides
            )

    def _baseline_group(self) -> int:
        return next((gi for gi, g in enumerate(self.groups) if self.baseline in g.members), 0)

    def _configure_charts(self, *, clear: bool) -> None:
        """Point both chart grids at the runs as they are now labelled and grouped; they
        read what their pages show in workers of their own."""
        data = self.data
        if data is None:
            return
        labels = dict(zip(data.run_ids, data.labels, strict=True))
        colours = distinct(data.run_ids, host(self).run_colours)
        self.query_one(SweepPlot).show(data, colours)
        source = ChartSource(
            self.store,
            labels,
            colours,
            self._max_points(),
            counts=data.counts,
        )
        if self.groups:
            names = [g.label for g in self.groups]
            source = replace(
                source,
                colors=dict(zip(names, palette_colors(names), strict=True)),
                groups=grouping.assignment(data.run_ids, self.groups),
                group_labels=tuple(names),
            )
        self.query_one("#metric-charts", ChartsGrid).set_source(
            source, data.metric_keys, clear=clear
        )
        system = replace(source, system=True)
        self.query_one("#system-charts", ChartsGrid).set_source(system, None, clear=clear)

    @property
    def charts_ready(self) -> bool:
        """Both chart grids show what they should (for tests and the benchmark)."""
        return self.data is not None and all(g.ready for g in self.query(ChartsGrid))

    def _show_head(self) -> None:
        data = self.data
        assert data is not None
        head = Text()
        n = len(data.run_ids)
        head.append(f"comparing {n} run{'s' if n != 1 else ''}", style="bold")
        if self.env is not None and self.env.different_data:
            head.append("  ")
            head.append(" ⚠ different data ", style="bold white on red")
        if self.groups:
            by = "all but seeds" if self.grouping == grouping.ALL_BUT_SEEDS else self.grouping
            head.append_text(safe(f" · {len(self.groups)} groups by {by}", "magenta"))
            head.append(" · baseline ◆ ")
            label = fit(self.groups[self._baseline_group()].label, 32)
            head.append_text(safe(label, "bold cyan", single_line=True))
        elif data.run_ids:
            head.append(" · baseline ◆ ")
            head.append_text(safe(data.labels[self.baseline], "bold cyan", single_line=True))
        if data.missing:
            head.append_text(safe(f" · not found: {', '.join(data.missing)}", "yellow"))
        self.query_one("#compare-head", Static).update(head)

    # -- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.query_one("#compare-filter", Input).has_focus:
            self._close_filter()
            return
        self.app.pop_screen()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_tab(tab)

    def action_move(self, direction: int) -> None:
        move_focused(self, direction)

    def _focus_tab(self, tab: str) -> None:
        pane = self.query_one(f"TabPane#{tab}")
        for widget in pane.query("CompareTable, MetricChart, SweepPlot"):
            if widget.display:
                widget.focus()
                return

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._close_filter()

    def action_baseline(self) -> None:
        data = self.data
        if data is None or not data.run_ids:
            return
        tab = self.active_tab
        column = None
        if tab in ("params", "metrics", "env"):
            column = self.query_one(f"TabPane#{tab} CompareTable", CompareTable).run_at_cursor
        if column is None and self.groups:  # no highlighted column: the next group
            chosen = self.groups[(self._baseline_group() + 1) % len(self.groups)].members[0]
        elif column is None:  # no highlighted column: the next run
            chosen = (self.baseline + 1) % len(data.run_ids)
        elif self.groups and tab == "metrics":
            chosen = self.groups[min(column, len(self.groups) - 1)].members[0]
        else:
            chosen = min(column, len(data.run_ids) - 1)
        self.baseline = chosen
        self._refresh_tables()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self._refresh_tables()

    def action_direction(self) -> None:
        """Cycle the better direction of the metric under the cursor: lower, higher, none,
        then back to what its name suggests."""
        if self.active_tab != "metrics" or not self._metric_rows:
            return
        table = self.query_one(MetricsDeltaPane).table
        row = self._metric_rows[min(table.cursor_coordinate.row, len(self._metric_rows) - 1)]
        step = DIRECTIONS.index(self.overrides[row.key]) + 1 if row.key in self.overrides else 0
        if step < len(DIRECTIONS):
            self.overrides[row.key] = DIRECTIONS[step]
        else:
            del self.overrides[row.key]
        self._show_metrics()

    def action_group(self) -> None:
        if self.data is None:
            return

        def chosen(by: str | None) -> None:
            if by is not None:
                self.set_grouping(by)

        self.app.push_screen(GroupPicker(self.data.params, self.grouping), chosen)

    def set_grouping(self, by: str) -> None:
        """Group by a flattened param key, grouping.ALL_BUT_SEEDS, or NO_GROUPING."""
        self.grouping = by
        self._regroup()
        self._refresh_tables()
        self._configure_charts(clear=True)

    def action_refresh(self) -> None:
        self._loader.request()

    # -- filter -------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#compare-filter", Input)
        pattern = self.patterns[self.active_tab]
        box.value = pattern.pattern if pattern is not None else ""
        box.border_title = f"/ filter {dict(TABS)[self.active_tab].lower()} keys (enter keeps)"
        box.display = True
        box.focus()

    def _close_filter(self) -> None:
        box = self.query_one("#compare-filter", Input)
        if box.display:
            box.display = False
            self._focus_tab(self.active_tab)

    @on(Input.Changed, "#compare-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            pattern = re.compile(event.value, re.IGNORECASE) if event.value else None
        except re.error as exc:
            event.input.border_subtitle = safe(f"✗ {exc}", single_line=True)  # not markup
            return
        event.input.border_subtitle = ""
        self.apply_filter(self.active_tab, pattern)

    @on(Input.Submitted, "#compare-filter")
    def _filter_submitted(self, _: Input.Submitted) -> None:
        self._close_filter()

    def apply_filter(self, tab: str, pattern: re.Pattern[str] | None) -> None:
        self.patterns[tab] = pattern
        if tab in ("charts", "system"):
            grid = "#metric-charts" if tab == "charts" else "#system-charts"
            self.query_one(grid, ChartsGrid).set_filter(pattern)
        else:
            self._refresh_tables()

    # -- help and palette ---------------------------------------------------------------

    def action_show_help(self) -> None:
        from mmtop.tui.screens.help import HelpScreen, section
        from mmtop.tui.widgets.chart import MetricChart

        self.app.push_screen(
            HelpScreen(
                "compare",
                [
                    section("compare", self.BINDINGS[:6]),
                    ("tabs", [(str(i + 1), label) for i, (_, label) in enumerate(TABS)]),
                    (
                        "metrics",
                        [("d", "Cycle the better direction of the metric under the cursor")],
                    ),
                    section("charts", [*ChartsGrid.BINDINGS, *MetricChart.BINDINGS]),
                    MOVE_HELP,
                    section("everywhere", self.app.BINDINGS),
                ],
            )
        )

    def palette_commands(self) -> Iterator[Command]:
        yield ("compare: back", "Close the comparison", self.action_back)
        yield ("compare: baseline", "Make the highlighted run the baseline", self.action_baseline)
        yield ("compare: group runs", "Group by a param, drawn as mean ± std", self.action_group)
        yield ("compare: all rows", "Show all rows or differences only", self.action_toggle_all)
        yield ("compare: refresh", "Read the runs again", self.action_refresh)
        for tab, label in TABS:
            yield (
                f"compare: show {label.lower()}",
                f"Switch to the {label} tab",
                partial(self.action_tab, tab),
            )
