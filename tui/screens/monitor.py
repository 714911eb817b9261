"""The Monitor view of one model at one deployment target: status, a drift heatmap
(features x windows, worst first), accuracy against the validation baseline, volume and
latency per window, the highlighted feature's baseline and current distributions, and the
deployment and retraining story. Live: reloads when the store changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from mmtop.tui import monitor_view
from mmtop.tui.host import host
from mmtop.tui.messages import LoadFailed, MonitorLoaded, StoreChanged
from mmtop.tui.workers import ReportsFailedWorkers

WINDOWS = ("1d", "1h", "10m", "1000")
HEATMAP_ROWS = 12


class MonitorScreen(ReportsFailedWorkers, Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="monitor.back"),
        Binding("j", "feature(1)", "Next feature", id="monitor.down"),
        Binding("k", "feature(-1)", "Prev feature", show=False, id="monitor.up"),
        Binding("t", "next_target", "Target", id="monitor.target"),
        Binding("w", "next_window", "Window", id="monitor.window"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="monitor.refresh"),
    ]
    DEFAULT_CSS = """
    MonitorScreen #monitor-top { height: 1; padding: 0 1; background: $boost; }
    MonitorScreen #monitor-body { height: 1fr; }
    MonitorScreen #monitor-columns { height: auto; }
    MonitorScreen #monitor-left { width: 1fr; height: auto; padding: 0 1; }
    MonitorScreen #monitor-right { width: 1fr; height: auto; padding: 0 1; }
    MonitorScreen .monitor-part { margin-bottom: 1; }
    """

    def __init__(self, name: str, targets: list[str], target: str | None = None) -> None:
        super().__init__()
        self.model_name = name
        self.targets = targets or ["prod"]
        self.target = target if target in self.targets else self.targets[0]
        self.window = WINDOWS[0]
        self.loads = 0
        self.report: Any = None
        self.baseline: dict[str, Any] | None = None
        self.features: list[str] = []
        self.feature: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("monitor", id="monitor-top")
        with VerticalScroll(id="monitor-body"):
            with Horizontal(id="monitor-columns"):
                with Vertical(id="monitor-left"):
                    yield Static("", id="monitor-heat", classes="monitor-part")
                    yield Static("", id="monitor-feature", classes="monitor-part")
                with Vertical(id="monitor-right"):
                    yield Static("", id="monitor-quality", classes="monitor-part")
                    yield Static("", id="monitor-volume", classes="monitor-part")
                    yield Static("", id="monitor-story", classes="monitor-part")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#monitor-body").focus()
        self.load_report()

    @work(thread=True, exclusive=True, group="monitor", exit_on_error=False)
    def load_report(self) -> None:
        try:
            st = host(self).get_store()
            report = st.monitoring(self.model_name, self.target, self.window)
            serving = st.deployed(self.model_name).get(self.target)
            baseline = st.model(f"{self.model_name}/{serving}").baseline() if serving else None
        except Exception as exc:  # noqa: BLE001 - an unreadable log: say so, do not crash
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(MonitorLoaded(report, baseline))

    def on_monitor_loaded(self, message: MonitorLoaded) -> None:
        self.report, self.baseline = message.report, message.baseline
        self.features = monitor_view.feature_order(self.report)
        if self.feature not in self.features:
            self.feature = self.features[0] if self.features else None
        self.loads += 1
        self._paint()

    def _paint(self) -> None:
        report = self.report
        if report is None:
            return
        top = monitor_view.status_line(report)
        if len(self.targets) > 1:
            top.append(f"  (t: {len(self.targets)} targets)", "dim")
        self.query_one("#monitor-top", Static).update(top)
        half = max(20, self.size.width // 2 - 2)
        self.query_one("#monitor-heat", Static).update(
            monitor_view.heatmap(report, self.feature, half, HEATMAP_ROWS)
        )
        latest = report.latest
        current = (
            latest[self.feature].drop_nulls().to_numpy()
            if latest is not None and self.feature in latest.columns
            else None
        )
        self.query_one("#monitor-feature", Static).update(
            monitor_view.feature_detail(report, self.feature, self.baseline, current, half)
        )
        self.query_one("#monitor-quality", Static).update(monitor_view.quality_chart(report))
        self.query_one("#monitor-volume", Static).update(monitor_view.volume_latency(report))
        self.query_one("#monitor-story", Static).update(monitor_view.story(report))

    @property
    def text(self) -> str:
        """What the view shows, as plain text (tests)."""
        parts = [
            "#monitor-top",
            "#monitor-heat",
            "#monitor-feature",
            "#monitor-quality",
            "#monitor-volume",
            "#monitor-story",
        ]
        return "\n".join(str(self.query_one(p, Static).render()) for p in parts)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.notify(f"monitor: {message.error}", severity="error", markup=False)

    def on_store_changed(self, message: StoreChanged) -> None:
        self.load_report()

    def action_feature(self, step: int) -> None:
        if not self.features:
            return
        at = self.features.index(self.feature) if self.feature in self.features else 0
        self.feature = self.features[(at + step) % len(self.features)]
        self._paint()

    def action_next_target(self) -> None:
        at = self.targets.index(self.target)
        self.target = self.targets[(at + 1) % len(self.targets)]
        self.load_report()

    def action_next_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self.load_report()

    def action_refresh(self) -> None:
        self.load_report()

    def palette_commands(self) -> Iterator[tuple[str, str, Any]]:
        yield ("monitor: back", "Close the Monitor view", self.app.pop_screen)
        yield ("monitor: next target", "Show the next deployment target", self.action_next_target)
        yield ("monitor: next window", "1d, 1h, 10m or 1000 predictions", self.action_next_window)
