"""One picture of the chart, reviewed by eye: two series, one with a band, smoothing on,
the cursor moved left. Update with `pytest tests/chart --snapshot-update` and look at it."""

from __future__ import annotations

from typing import Any

import numpy as np
from textual.app import App, ComposeResult

from mmtop.tui.charting import Series
from mmtop.tui.widgets.chart import MetricChart


class SnapshotApp(App[None]):
    def compose(self) -> ComposeResult:
        steps = np.arange(0, 2001, 5)
        wobble = 0.08 * np.sin(steps / 7.0) + 0.05 * np.sin(steps / 3.1)  # fixed, not random
        train = 2.2 * np.exp(-steps / 450.0) + 0.15 + wobble
        val = 2.0 * np.exp(-steps / 600.0) + 0.3
        spread = 0.1 + 0.05 * np.cos(steps / 150.0)
        yield MetricChart(
            [
                Series("train/loss", steps, train),
                Series("val/loss (3 seeds)", steps, val, band=(val - spread, val + spread)),
            ],
            title="digits · sgd-lr0.01",
        )


def test_chart_with_two_series(snap_compare: Any) -> None:
    assert snap_compare(SnapshotApp(), press=["s", *["left"] * 12], terminal_size=(80, 24))
