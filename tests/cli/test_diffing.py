"""tui.diffing: diff-only params, metric deltas against a baseline, direction, env/code/data."""

from __future__ import annotations

import math

import pytest

from mmtop.tui import diffing
from mmtop.tui.diffing import MISSING, Cell


def test_flatten_nested_and_lists() -> None:
    params = {"lr": 0.1, "model": {"kind": "sgd", "opt": {"beta": [0.9, 0.99]}}, "empty": {}}
    assert diffing.flatten(params) == {
        "lr": 0.1,
        "model.kind": "sgd",
        "model.opt.beta": [0.9, 0.99],
        "empty": {},
    }
    assert diffing.flatten({"gpus": [{"name": "A"}, {"name": "B"}]}, expand_lists=True) == {
        "gpus.0.name": "A",
        "gpus.1.name": "B",
    }


def test_diff_rows_keeps_only_differences_by_default() -> None:
    a = {"lr": 0.1, "seed": 1, "model": {"kind": "sgd", "depth": 2}}
    b = {"lr": 0.01, "seed": 1, "model": {"kind": "sgd", "depth": 3}, "extra": None}
    rows = diffing.diff_rows([a, b])
    assert [(r.key, r.values) for r in rows] == [
        ("extra", (MISSING, None)),
        ("lr", (0.1, 0.01)),
        ("model.depth", (2, 3)),
    ]
    every = diffing.diff_rows([a, b], all_rows=True)
    assert [r.key for r in every] == ["extra", "lr", "model.depth", "model.kind", "seed"]
    assert [r.differs for r in every] == [True, True, True, False, False]


def test_same_is_strict_about_types_and_kind_to_nan() -> None:
    assert diffing.same(math.nan, math.nan)
    assert not diffing.same(True, 1)
    assert diffing.same(1, 1.0)
    assert not diffing.same(None, MISSING)
    assert diffing.same([1, {"a": math.nan}], [1, {"a": math.nan}])
    assert not diffing.same("1", 1)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("val/loss", "lower"),
        ("train_loss", "lower"),
        ("valLoss", "lower"),
        ("eval/rmse", "lower"),
        ("wer", "lower"),
        ("test/accuracy", "higher"),
        ("top1Accuracy", "higher"),
        ("val/f1", "higher"),
        ("mAP@50", "higher"),
        ("rouge-L", "higher"),
        ("r2", "higher"),
        ("val_f1_score", "higher"),
        ("eval/ppl", "lower"),
        ("lr", None),
        ("epoch_time", None),
        ("loss/acc", "higher"),  # the last telling word decides
    ],
)
def test_direction_heuristic(key: str, expected: str | None) -> None:
    assert diffing.direction(key) == expected


def test_direction_overrides_come_first() -> None:
    rules = [("latency", "lower"), ("^val/loss$", "higher")]
    assert diffing.direction("p99_latency", rules) == "lower"  # type: ignore[arg-type]
    assert diffing.direction("val/loss", rules) == "higher"  # type: ignore[arg-type]
    assert diffing.direction("train/loss", rules) == "lower"  # type: ignore[arg-type]


def test_metric_rows_deltas_against_baseline() -> None:
    runs = [
        {"val/loss": {"last": 0.5, "min": 0.4, "max": 1.0}, "val/acc": {"last": 0.8}},
        {"val/loss": {"last": 0.25, "min": 0.2, "max": 1.0}, "val/acc": {"last": 0.9}},
        {"val/loss": {"last": 1.0, "min": 0.4, "max": 2.0}},
    ]
    rows = {(r.key, r.stat): r for r in diffing.metric_rows(runs, 0)}
    loss = rows[("val/loss", "last")]
    assert loss.direction == "lower"
    assert loss.cells == (
        Cell(0.5, None, None, None),
        Cell(0.25, 0.25 - 0.5, (0.25 - 0.5) / 0.5 * 100, True),
        Cell(1.0, 0.5, 100.0, False),
    )
    assert loss.best == (1,)
    assert rows[("val/loss", "min")].best == (1,)
    assert rows[("val/loss", "max")].cells[1] == Cell(1.0, 0.0, 0.0, None)  # equal: no verdict
    acc = rows[("val/acc", "last")]
    assert acc.cells[2] == Cell(None, None, None, None)  # run 2 never logged it
    assert acc.cells[1].better is True and acc.best == (1,)
    assert rows[("val/acc", "min")].cells == (Cell(None, None, None, None),) * 3


def test_switching_the_baseline_moves_the_deltas() -> None:
    runs = [{"acc": {"last": 0.5}}, {"acc": {"last": 0.75}}]
    first = diffing.metric_rows(runs, 0, stats=["last"])[0]
    second = diffing.metric_rows(runs, 1, stats=["last"])[0]
    assert first.cells[1] == Cell(0.75, 0.25, 50.0, True)
    assert second.cells[0] == Cell(0.5, -0.25, -0.25 / 0.75 * 100, False)
    assert second.cells[1] == Cell(0.75, None, None, None)
    with pytest.raises(IndexError):
        diffing.metric_rows(runs, 2)


def test_metric_rows_diff_only_and_non_finite() -> None:
    runs = [
        {"a": {"last": 1.0}, "b": {"last": math.nan}, "c": {"last": 0.0}},
        {"a": {"last": 1.0}, "b": {"last": math.nan}, "c": {"last": 2.0}},
    ]
    rows = diffing.metric_rows(runs, 0, stats=["last"], all_rows=False)
    assert [r.key for r in rows] == ["c"]
    assert rows[0].cells[1] == Cell(2.0, 2.0, None, None)  # % of a zero baseline is undefined
    nan_row = diffing.metric_rows(
        [{"loss": {"last": math.nan}}, {"loss": {"last": 1.0}}], 0, stats=["last"]
    )[0]
    assert nan_row.cells[1] == Cell(1.0, None, None, None)
    assert nan_row.best == ()


def test_stats_of_merges_single_values() -> None:
    summary = {"loss": {"last": 0.1, "min": 0.05, "max": 2.0, "count": 3, "last_step": 2}}
    assert diffing.stats_of(summary, {"test/acc": 0.9, "loss": 7.0, "flag": True}) == {
        "loss": {"last": 0.1, "min": 0.05, "max": 2.0},
        "test/acc": {"last": 0.9, "min": 0.9, "max": 0.9},
    }


def test_env_rows_show_differing_packages_and_python() -> None:
    base = {"python": {"version": "3.11.7"}, "packages": {"numpy": "1.26.4", "torch": "2.3.0"}}
    other = {"python": {"version": "3.12.1"}, "packages": {"numpy": "1.26.4", "torch": "2.4.0"}}
    rows = diffing.env_rows([base, other, None])
    assert [(r.key, r.values) for r in rows] == [
        ("packages.numpy", ("1.26.4", "1.26.4", MISSING)),
        ("packages.torch", ("2.3.0", "2.4.0", MISSING)),
        ("python.version", ("3.11.7", "3.12.1", MISSING)),
    ]


def test_code_rows() -> None:
    a = {"git": {"commit": "abc", "branch": "main", "dirty": []}}
    b = {"git": {"commit": "def", "branch": "main", "dirty": ["train.py"]}}
    rows = diffing.code_rows([a, b])
    assert [(r.key, r.values) for r in rows] == [
        ("git.commit", ("abc", "def")),
        ("git.dirty", ([], ["train.py"])),
    ]


def test_different_data_is_obvious() -> None:
    same_data = [{"name": "train", "fingerprint": "f1", "rows": 10}]
    other_data = [{"name": "train", "fingerprint": "f2", "rows": 10}]
    extra: list[dict[str, object]] = [*same_data, {"name": "val", "fingerprint": "v1"}]
    assert diffing.different_data([same_data, same_data]) == []
    assert diffing.different_data([same_data, other_data]) == ["train"]
    assert diffing.different_data([same_data, extra]) == ["val"]
    assert diffing.different_data([[], []]) == []
    rows = diffing.data_rows([same_data, other_data])
    assert [(r.key, r.values) for r in rows] == [("train.fingerprint", ("f1", "f2"))]
