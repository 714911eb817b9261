"""The one column rule of the runs table and `mmtop ls` (tui/column_rule.py), and the table
drawing whole columns only: none half drawn, numbers never cut."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from textual.app import App, ComposeResult

from mmtop.tui.column_rule import default_columns, fit, metric_order
from mmtop.tui.runs_view import RunsModel, ViewState
from mmtop.tui.widgets.runs_table import RunsTable

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _flat() -> pl.DataFrame:
    """Three runs, oldest first; the newest logged only val/acc and a constant lr."""
    return pl.DataFrame(
        {
            "run_id": ["a", "b", "c"],
            "experiment": ["x", "x", "x"],
            "name": ["one", "two", "three"],
            "status": ["finished", "finished", "running"],
            "created": [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)],
            "duration_s": [1.0, 2.0, 3.0],
            "last_step": [1, 2, 3],
            "tags": [["t"], [], ["t"]],
            "params.lr": [0.1, 0.01, 0.1],
            "params.seed": [7, 7, 7],
            "metrics.a/old": [0.5, 0.4, None],
            "metrics.lr": [0.1, 0.1, 0.1],
            "metrics.val/acc": [0.9, 0.8, 0.95],
            "metrics.zz": [1.0, 2.0, None],
        }
    )


def test_metrics_come_first_then_differing_params_then_the_runs_own_columns() -> None:
    assert default_columns(_flat()) == [
        "status", "name",
        "metrics.val/acc", "metrics.lr", "metrics.a/old", "metrics.zz",
        "params.lr",
        "created", "duration_s", "last_step", "tags", "experiment",
    ]  # fmt: skip


def test_metric_order_newest_runs_metrics_first_varying_before_constant() -> None:
    flat = _flat()
    keys = ["metrics.a/old", "metrics.lr", "metrics.val/acc", "metrics.zz"]
    # The newest run logged val/acc and lr: they lead; val/acc varies, lr does not.
    assert metric_order(flat, keys) == [
        "metrics.val/acc", "metrics.lr", "metrics.a/old", "metrics.zz",
    ]  # fmt: skip
    # The metric the user sorts by leads them all.
    assert metric_order(flat, keys, first=["metrics.zz"])[0] == "metrics.zz"
    # A metric with no value among the runs shown is not a column.
    assert metric_order(flat.tail(1), keys) == ["metrics.lr", "metrics.val/acc"]


def test_identity_columns_follow_the_name_and_one_run_shows_all_its_params() -> None:
    cols = default_columns(_flat().tail(1), identity=["run_id"])
    assert cols[:3] == ["status", "name", "run_id"]
    assert "params.seed" in cols and "params.lr" in cols


def test_fit_drops_from_the_end_never_skips_and_gives_spare_room_in_order() -> None:
    # natural, floor: a name (text, floor 4), then numbers (whole).
    natural, floor = [10, 6, 6, 6], [4, 6, 6, 6]
    assert fit(natural, floor, 40, 1) == [10, 6, 6, 6]
    # 20 cells: the name gives way to its floor so two numbers fit; the third is dropped.
    assert fit(natural, floor, 20, 1) == [6, 6, 6]
    # A column that does not fit ends the table even when a later one would fit.
    assert fit([5, 30, 2], [5, 30, 2], 20, 1) == [5]
    assert fit([5], [5], 3, 1) == []


class _TableApp(App[None]):
    def __init__(self, model: RunsModel) -> None:
        super().__init__()
        self.model = model

    def compose(self) -> ComposeResult:
        yield RunsTable(now=lambda: T0 + timedelta(days=1))

    def on_mount(self) -> None:
        table = self.query_one(RunsTable)
        view = self.model.compute(ViewState(sort_key="name", descending=False))
        table.set_view(self.model, view, sort_key="name", descending=False)
        table.focus()


def _raw(n: int) -> pl.DataFrame:
    """n runs; run r0001's `m` needs 9 cells (0.0001234) while the measured sample (every
    other row, and the extremes -1 and 2) needs 4."""
    values = [0.5] * n
    values[0], values[1], values[2] = -1.0, 0.0001234, 2.0
    return pl.DataFrame(
        {
            "run_id": [f"r{i:04d}" for i in range(n)],
            "experiment": ["x"] * n,
            "name": [f"r{i:04d}" for i in range(n)],
            "status": ["finished"] * n,
            "created": [T0 + timedelta(seconds=i) for i in range(n)],
            "duration_s": [1.0] * n,
            "last_step": [1] * n,
            "tags": [["t"]] * n,
            "params": pl.Series([{"lr": 0.1 * (i % 3)} for i in range(n)]),
            "metrics": pl.Series([{"m": v, "wide/metric/name": 123.5} for v in values]),
        }
    )


def _lines(app: App[None], h: Any) -> list[str]:
    return [line.rstrip() for line in h.screen_text(app).splitlines()]


async def test_a_number_wider_than_the_measured_column_is_drawn_whole(h: Any) -> None:
    model = RunsModel(_raw(600))
    assert model.column("metrics.m").width < len("0.0001234")  # the sample missed it
    app = _TableApp(model)
    async with app.run_test(size=(80, 10)) as pilot:
        await h.wait_for(pilot, lambda: "r0001" in h.screen_text(app))
        await pilot.pause()
        row = next(line for line in _lines(app, h) if "r0001" in line)
        assert "0.0001234" in row.split()


async def test_columns_that_do_not_fit_are_not_drawn_at_all(tmp_path: Path, h: Any) -> None:
    model = RunsModel(_raw(3))
    app = _TableApp(model)
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(RunsTable)
        await h.wait_for(pilot, lambda: "r0000" in h.screen_text(app))
        labels = [c.label for c in table.columns if c.label]
        for presses in range(len(table.columns)):
            header = _lines(app, h)[0].replace("▲", "").replace("▼", "").split()
            # Whole labels only, and those of columns next to each other in table order.
            assert all(word in labels for word in header), header
            index = [labels.index(word) for word in header]
            assert index[1:] == list(range(index[1], index[1] + len(index) - 1)), presses
            await pilot.press("l")
        assert table.current_column is not None
        assert table.current_column.key == "experiment"
        assert _lines(app, h)[0].endswith("experiment")
