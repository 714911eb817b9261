"""Pictures of the compare screen at 120 x 40, reviewed by eye. Update them with
`pytest tests/compare --snapshot-update` and look at tests/compare/__snapshots__/.

The store is built once per session with fixed params, values and captures, so only the
run ids and times (never shown) differ between runs of the tests.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from mmtop.tui.screens.compare import CompareScreen
from mmtop.tui.widgets.compare_charts import ChartsGrid

SIZE = (120, 40)


def banded(screen: CompareScreen) -> bool:
    """The group curves, computed in a worker, are on the first chart."""
    series = screen.query_one("#metric-charts", ChartsGrid).charts[0].state.series
    return bool(series) and series[0].band is not None


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("params", []),
        ("metrics_baseline", ["2", "right", "right", "right", "b"]),
        ("charts", ["3"]),
        ("env", ["5"]),
        ("grouped_metrics", ["G", "down", "enter", "2"]),
    ],
)
def test_compare_screen(
    name: str,
    keys: list[str],
    sample: Any,
    compare_app: Any,
    until_loaded: Any,
    wait_for: Any,
    snap_compare: Any,
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await until_loaded(pilot)
        await pilot.press(*keys)
        if name.startswith("grouped"):
            await wait_for(pilot, lambda: banded(screen), what="group curves")

    assert snap_compare(
        compare_app(sample.root, sample.ids), terminal_size=SIZE, run_before=run_before
    )


def test_compare_charts_80x24(
    sample: Any, compare_app: Any, until_loaded: Any, snap_compare: Any
) -> None:
    """One chart a page, with round y labels and x labels; the legend under it."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await until_loaded(pilot)
        await pilot.press("3")

    assert snap_compare(
        compare_app(sample.root, sample.ids), terminal_size=(80, 24), run_before=run_before
    )


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_sweep_tab(
    sample: Any, compare_app: Any, until_loaded: Any, snap_compare: Any, size: tuple[int, int]
) -> None:
    """A param against a metric: a dot per run in its colour, axes labelled, means below."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await until_loaded(pilot)
        await pilot.press("6")

    assert snap_compare(
        compare_app(sample.root, sample.ids), terminal_size=size, run_before=run_before
    )
