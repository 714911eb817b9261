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


async def _grouped(pilot: Pilot[Any], screen: CompareScreen) -> None:
    grid = screen.query_one("#metric-charts", ChartsGrid)
    from time import monotonic

    deadline = monotonic() + 10
    while not grid.charts[0].state.series or grid.charts[0].state.series[0].band is None:
        assert monotonic() < deadline, "group curves never arrived"
        await pilot.pause(0.02)


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
    snap_compare: Any,
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await until_loaded(pilot)
        await pilot.press(*keys)
        if name.startswith("grouped"):
            await _grouped(pilot, screen)

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
