"""tui.grouping: which runs group together, and their mean/std/n against polars itself."""

from __future__ import annotations

import math
import statistics
from typing import Any, cast

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from mmtop import store
from mmtop.tui.grouping import (
    ALL_BUT_SEEDS,
    CURVE_SCHEMA,
    Group,
    GroupStat,
    assignment,
    group_curves,
    group_means,
    group_runs,
    group_stats,
    grouping_keys,
    is_seed_like,
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("seed", True),
        ("random_state", True),
        ("rng", True),
        ("data.seed", True),
        ("init_seed", True),
        ("Seed", True),
        ("rng.kind", True),
        ("model.random_state", True),
        ("lr", False),
        ("model.depth", False),
        ("seedling_count", True),  # contains "seed": the issue's *seed* rule
        ("ring", False),
    ],
)
def test_seed_like_keys(key: str, expected: bool) -> None:
    assert is_seed_like(key) is expected


PARAMS: list[dict[str, Any]] = [
    {"lr": 0.1, "seed": 1, "model": {"kind": "sgd", "depth": 2}},
    {"lr": 0.1, "seed": 2, "model": {"kind": "sgd", "depth": 2}},
    {"lr": 0.01, "seed": 1, "model": {"kind": "adam", "depth": 2}},
    {"lr": 0.01, "seed": 2, "model": {"kind": "adam", "depth": 2}, "data": {"random_state": 4}},
]


def test_grouping_keys_are_the_params_that_differ() -> None:
    assert grouping_keys(PARAMS) == ["data.random_state", "lr", "model.kind", "seed"]


def test_group_by_one_param_keeps_first_appearance_order() -> None:
    assert group_runs(PARAMS, "model.kind") == [
        Group("model.kind=sgd", (0, 1)),
        Group("model.kind=adam", (2, 3)),
    ]


def test_group_by_all_but_seeds_ignores_every_seed_like_key() -> None:
    assert group_runs(PARAMS, ALL_BUT_SEEDS) == [
        Group("lr=0.1 kind=sgd", (0, 1)),
        Group("lr=0.01 kind=adam", (2, 3)),
    ]


def test_labels_name_keys_by_their_last_part_unless_that_is_ambiguous() -> None:
    params = [
        {"enc": {"kind": "a"}, "dec": {"kind": "x"}, "model": {"depth": 1}},
        {"enc": {"kind": "b"}, "dec": {"kind": "y"}, "model": {"depth": 2}},
    ]
    labels = [g.label for g in group_runs(params, ALL_BUT_SEEDS)]
    assert labels == ["dec.kind=x enc.kind=a depth=1", "dec.kind=y enc.kind=b depth=2"]


def test_group_by_all_but_seeds_with_only_seeds_differing_is_one_group() -> None:
    params = [{"lr": 0.1, "seed": s} for s in range(3)]
    assert group_runs(params, ALL_BUT_SEEDS) == [Group("all runs", (0, 1, 2))]


def test_missing_key_is_a_group_of_its_own() -> None:
    params = [{"lr": 0.1}, {}, {"lr": 0.1}]
    assert group_runs(params, "lr") == [Group("lr=0.1", (0, 2)), Group("lr=—", (1,))]


def test_equal_numbers_group_together_but_text_and_bools_do_not() -> None:
    params: list[dict[str, Any]] = [{"x": 1}, {"x": 1.0}, {"x": "1"}, {"x": True}]
    groups = group_runs(params, "x")
    assert [g.members for g in groups] == [(0, 1), (2,), (3,)]
    assert [g.label for g in groups] == ["x=1", "x=1 #2", "x=true"]


def test_assignment_maps_run_ids_to_labels() -> None:
    groups = group_runs(PARAMS, "lr")
    assert assignment(["a", "b", "c", "d"], groups) == {
        "a": "lr=0.1",
        "b": "lr=0.1",
        "c": "lr=0.01",
        "d": "lr=0.01",
    }


def direct_curves(history: pl.DataFrame, groups: dict[str, str]) -> pl.DataFrame:
    """The textbook computation, one point per run and step."""
    mapping = pl.DataFrame({"run_id": list(groups), "group": list(groups.values())})
    return (
        history.join(mapping, on="run_id")
        .group_by("group", "key", "step")
        .agg(
            pl.col("value").mean().alias("mean"),
            pl.col("value").std().alias("std"),
            pl.len().alias("n"),
        )
        .with_columns(pl.col("step").cast(pl.Float64), pl.col("n").cast(pl.UInt32))
        .select(list(CURVE_SCHEMA))
        .sort("group", "key", "step")
    )


def test_group_curves_match_polars_on_a_real_store(tmp_path: Any) -> None:
    ids = []
    for i, (lr, seed) in enumerate([(0.1, 1), (0.1, 2), (0.1, 3), (0.01, 1), (0.01, 2)]):
        with store.Run(
            experiment="e",
            params={"lr": lr, "seed": seed},
            root=tmp_path,
            capture_env=False,
            capture_code=False,
            capture_system=False,
        ) as run:
            for step in range(0, 30, 3):
                run.log({"loss": 1.0 / (step + 1) + 0.01 * seed * (i + 1)}, step=step)
            if i != 2:  # one run lacks the key: n must say so
                run.log({"acc": 0.5 + 0.1 * seed}, step=0)
        ids.append(run.run_id)
    history = store.open(tmp_path).history(ids)
    groups = assignment(ids, group_runs([{"lr": lr} for lr in (0.1,) * 3 + (0.01,) * 2], "lr"))
    got = group_curves(history, groups)
    assert_frame_equal(got, direct_curves(history.select("run_id", "key", "step", "value"), groups))
    acc = got.filter(pl.col("key") == "acc", pl.col("group") == "lr=0.1").row(0, named=True)
    assert acc["n"] == 2
    assert acc["mean"] == pytest.approx(statistics.fmean([0.6, 0.7]))
    assert acc["std"] == pytest.approx(statistics.stdev([0.6, 0.7]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["r1", "r2", "r3", "r4"]),
            st.sampled_from(["loss", "acc"]),
            st.integers(0, 6),
            st.floats(-1e6, 1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=60,
        unique_by=lambda t: (t[0], t[1], t[2]),
    )
)
def test_group_curves_match_polars_property(points: list[tuple[str, str, int, float]]) -> None:
    history = pl.DataFrame(
        points,
        schema={"run_id": pl.String, "key": pl.String, "step": pl.Int64, "value": pl.Float64},
        orient="row",
    )
    groups = {"r1": "a", "r2": "a", "r3": "b"}  # r4 belongs to no group: left out
    assert_frame_equal(group_curves(history, groups), direct_curves(history, groups))


def test_a_step_logged_twice_counts_once_with_its_mean() -> None:
    history = pl.DataFrame(
        {"run_id": ["a", "a", "b"], "key": ["k"] * 3, "step": [0, 0, 0], "value": [1.0, 3.0, 6.0]}
    )
    got = group_curves(history, {"a": "g", "b": "g"})
    assert got.rows() == [("g", "k", 0.0, 4.0, math.sqrt(8.0), 2)]


def test_buckets_average_runs_whose_steps_do_not_line_up() -> None:
    # Run a logs even steps, run b odd ones; two buckets over steps 0..7: [0, 3.5), [3.5, 7].
    history = pl.DataFrame(
        {
            "run_id": ["a"] * 4 + ["b"] * 4,
            "key": ["k"] * 8,
            "step": [0, 2, 4, 6, 1, 3, 5, 7],
            "value": [0.0, 2.0, 4.0, 6.0, 10.0, 30.0, 50.0, 70.0],
        }
    )
    got = group_curves(history, {"a": "g", "b": "g"}, buckets=2)
    # bucket 0: a -> steps 0, 2 (mean step 1, value 1); b -> 1, 3 (step 2, value 20)
    # bucket 1: a -> 4, 6 (step 5, value 5); b -> 5, 7 (step 6, value 60)
    assert got.rows() == [
        ("g", "k", 1.5, 10.5, statistics.stdev([1.0, 20.0]), 2),
        ("g", "k", 5.5, 32.5, statistics.stdev([5.0, 60.0]), 2),
    ]


def test_buckets_leave_keys_with_few_steps_alone() -> None:
    history = pl.DataFrame(
        {"run_id": ["a", "b"], "key": ["k", "k"], "step": [3, 3], "value": [1.0, 2.0]}
    )
    assert group_curves(history, {"a": "g", "b": "g"}, buckets=10).rows() == [
        ("g", "k", 3.0, 1.5, statistics.stdev([1.0, 2.0]), 2)
    ]


def test_group_curves_of_nothing_are_empty_with_the_schema() -> None:
    empty = pl.DataFrame(
        schema={"run_id": pl.String, "key": pl.String, "step": pl.Int64, "value": pl.Float64}
    )
    assert group_curves(empty, {"a": "g"}).schema == pl.Schema(CURVE_SCHEMA)


def test_group_stats_match_a_direct_computation() -> None:
    stats = [
        {"loss": {"last": 0.5, "min": 0.4, "max": 2.0}, "acc": {"last": 0.9}},
        {"loss": {"last": 0.7, "min": 0.6, "max": 2.2}},
        {"loss": {"last": 0.1, "min": 0.1, "max": 1.0}, "acc": {"last": 0.8}},
    ]
    groups = [Group("a", (0, 1)), Group("b", (2,))]
    got = group_stats(stats, groups)
    assert got[0]["loss"]["last"] == GroupStat(
        cast(float, pytest.approx(0.6)),
        cast(float, pytest.approx(statistics.stdev([0.5, 0.7]))),
        2,
    )
    assert got[0]["acc"]["last"] == GroupStat(0.9, None, 1)
    assert got[1]["loss"]["max"] == GroupStat(1.0, None, 1)
    assert group_means(got)[1] == {
        "loss": {"last": 0.1, "min": 0.1, "max": 1.0},
        "acc": {"last": 0.8},
    }
