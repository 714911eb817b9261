"""Charts people can read: three or more round y labels and x labels at every chart size a
grid uses, the most telling keys first, and a grid shape that fits the terminal."""

from __future__ import annotations

import numpy as np
import pytest

from mmtop.tui.charting.layout import build_frame
from mmtop.tui.charting.model import ChartState, Series
from mmtop.tui.charting.order import interesting_first, is_constant
from mmtop.tui.charting.ticks import parse_number
from mmtop.tui.widgets.compare_charts import grid_shape


def y_labels(state: ChartState, width: int, height: int) -> list[float]:
    frame = build_frame(state, width, height, "key")
    rows = [line for line in frame.lines if len(line) > 1 and line[1][0] == "┤"]
    return [parse_number(line[0][0].strip()) for line in rows]


@pytest.mark.parametrize("height", [6, 8, 10, 13, 16, 30])
@pytest.mark.parametrize(
    "values",
    [
        [0.5, 0.55, 0.6, 0.65, 0.7, 0.75],  # the sample crashed run's val/acc: one label before
        [2.0, 1.2, 0.8, 0.5, 0.4, 0.3333],
        [1e-3, 2e-3, 5e-3],
        [951.0, 952.5, 953.0],
    ],
)
def test_at_least_three_round_y_labels(values: list[float], height: int) -> None:
    state = ChartState().with_series([Series("r", np.arange(len(values)), np.array(values))])
    labels = y_labels(state, 40, height)
    assert len(labels) >= 3
    assert labels == sorted(labels, reverse=True)
    # Round: multiples of a step of 1, 2, 2.5 or 5 times a power of ten.
    step = min(a - b for a, b in zip(labels, labels[1:], strict=False))
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
    assert all(np.isclose(v / step, round(v / step)) for v in labels)


def test_log_axis_gets_three_labels_too() -> None:
    state = ChartState(log_y=True).with_series([Series("r", [0, 1, 2], [0.5, 0.6, 0.75])])
    assert len(y_labels(state, 40, 9)) >= 3


def test_x_labels_under_a_small_chart() -> None:
    state = ChartState().with_series([Series("r", np.arange(20), np.linspace(2, 0, 20))])
    lines = ["".join(t for t, _ in line) for line in build_frame(state, 38, 8, "k").lines]
    assert lines[-3].split() == ["0", "10"]  # x labels, legend, read-out


def test_without_legend_the_readout_names_only_the_x() -> None:
    series = [Series(f"run-{i}", [0, 1], [i, i + 1.0]) for i in range(12)]
    frame = build_frame(ChartState().with_series(series), 60, 12, "k", legend=False)
    lines = ["".join(t for t, _ in line) for line in frame.lines]
    assert lines[-1] == "latest step 1"
    assert not any("run-" in line for line in lines)


def test_changing_metrics_before_constants() -> None:
    ranges = {
        "lr": [(0.1, 0.1), (0.01, 0.01)],  # a sweep: flat in each run, though runs differ
        "val/acc": [(0.5, 0.9), (0.6, 0.95)],
        "epoch_time": [(3.0, 3.0), (3.0, 4.0)],  # moves in one run
        "seed": [],
        "train/loss": [(0.1, 2.0)],
    }
    assert interesting_first(sorted(ranges), ranges) == [
        "epoch_time",
        "train/loss",
        "val/acc",
        "lr",
        "seed",
    ]
    assert is_constant([(None, None), (1.0, 1.0), (2.0, 2.0)])
    assert not is_constant([(1.0, 1.0), (1.0, 2.0)])


@pytest.mark.parametrize(
    ("size", "shape"),
    [((80, 18), (1, 1)), ((87, 33), (2, 2)), ((120, 33), (2, 2)), ((160, 40), (3, 3))],
)
def test_grid_shape_fits_the_terminal(size: tuple[int, int], shape: tuple[int, int]) -> None:
    assert grid_shape(*size) == shape


def test_compare_keys_put_a_swept_lr_last() -> None:
    from mmtop.tui.compare_data import CompareData

    stats: list[dict[str, dict[str, float]]] = [
        {"lr": {"last": 5.0, "min": 5.0, "max": 5.0}, "loss": {"last": 1, "min": 1, "max": 3}},
        {"lr": {"last": 0.1, "min": 0.1, "max": 0.1}, "loss": {"last": 2, "min": 2, "max": 2}},
    ]
    data = CompareData(
        run_ids=["a", "b"], labels=["a", "b"], params=[{}, {}], stats=stats,
        envs=[None, None], codes=[None, None], inputs=[[], []],
        counts={"lr": 10, "loss": 10, "acc": 5},
    )  # fmt: skip
    assert data.metric_keys == ["loss", "acc", "lr"]


def test_legend_names_keep_both_ends() -> None:
    from rich.cells import cell_len

    from mmtop.tui.widgets.chart_legend import middle_cut

    assert middle_cut("sgd-a0.001-adaptive-lr0.05-s2", 20) == "sgd-a0.001…lr0.05-s2"
    assert middle_cut("short", 20) == "short"
    assert all(cell_len(middle_cut("x" * 50, w)) == w for w in range(4, 30))
