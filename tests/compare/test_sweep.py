"""The Sweep tab: one param against one metric's last value, a dot per run in its colour."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from mmtop.tui.compare_data import CompareData
from mmtop.tui.sweep import Point, by_value, points, sweep_params
from mmtop.tui.widgets.sweep_plot import DOT, SweepPlot

SIZE = (120, 40)


def _data() -> CompareData:
    return CompareData(
        run_ids=["a", "b", "c"],
        labels=["a", "b", "c"],
        params=[{"lr": 0.1, "opt": "sgd"}, {"lr": 0.1, "opt": "adam"}, {"lr": 0.01, "opt": "sgd"}],
        stats=[{"acc": {"last": 0.8}}, {"acc": {"last": 0.9}}, {"acc": {"last": 0.5}}],
        envs=[None] * 3,
        codes=[None] * 3,
        inputs=[[]] * 3,
        counts={"acc": 30},
    )


def test_points_and_means_per_value() -> None:
    data = _data()
    assert sweep_params(data) == ["lr", "opt"]
    assert points(data, "lr", "acc") == [
        Point("a", "a", 0.1, 0.8), Point("b", "b", 0.1, 0.9), Point("c", "c", 0.01, 0.5),
    ]  # fmt: skip
    assert by_value(points(data, "lr", "acc")) == [("0.1", 0.8500000000000001, 2), ("0.01", 0.5, 1)]
    assert [p.x for p in points(data, "opt", "acc")] == ["sgd", "adam", "sgd"]


async def test_sweep_tab_plots_each_run_in_its_colour_and_cycles_params(
    sample: Any, compare_app: Any, until_loaded: Any
) -> None:
    async with compare_app(sample.root, sample.ids).run_test(size=SIZE) as pilot:
        screen = await until_loaded(pilot)
        await pilot.press("6")
        plot = screen.query_one(SweepPlot)
        assert screen.focused is plot
        assert plot.params == ["lr", "model.depth", "model.kind", "seed"]
        drawn = plot.render()
        assert isinstance(drawn, Text)
        assert drawn.plain.startswith(f"{plot.current_metric} (last value) against lr · 4 runs")
        assert drawn.plain.count(DOT) == 4
        dots = {str(span.style) for span in drawn.spans if drawn.plain[span.start] == DOT}
        assert len(dots) == 4  # one colour per run
        assert f"mean {plot.current_metric} by lr, highest first:" in drawn.plain
        await pilot.press("p", "p")
        assert plot.current_param == "model.kind"
        drawn = plot.render()
        assert isinstance(drawn, Text)
        assert "adam" in drawn.plain and "sgd" in drawn.plain  # categories on the x axis
        first = plot.current_metric
        await pilot.press("m")
        assert plot.current_metric != first
        await pilot.press("M")
        assert plot.current_metric == first
