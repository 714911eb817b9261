"""`runs(where=...)`: SQL filters over params, metrics, status; clear errors; mixed param types."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import cast

import polars as pl
import pytest

from mmtop import store
from mmtop.store import query
from mmtop.store.errors import QueryError


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> store.Store:
    base = tmp_path_factory.mktemp("zoo")
    root = base / "mmruns"
    specs = [
        (
            "q1",
            "sgd-lr0.01",
            {"lr": 0.01, "optimizer": {"name": "sgd", "momentum": 0.9}, "epochs": 10},
            {"val/acc": 0.91, "loss": 0.3},
            None,
            ["baseline"],
        ),
        (
            "q2",
            "resnet-big",
            {"lr": 0.1, "optimizer": {"name": "adam"}, "epochs": 20},
            {"val/acc": 0.85, "loss": 0.5},
            ValueError,
            [],
        ),
        (
            "q3",
            "resnet-small",
            {"lr": 0.001, "optimizer": {"name": "sgd"}, "epochs": 20},
            {"val/acc": 0.95},
            KeyboardInterrupt,
            ["best", "baseline"],
        ),
        ("q4", "empty", {}, {}, None, []),
    ]
    for run_id, name, params, metrics, exc, tags in specs:
        try:
            with (
                contextlib.chdir(base),
                store.Run(
                    experiment="digits",
                    name=name,
                    params=params,
                    tags=tags,
                    run_id=run_id,
                    root=root,
                ) as run,
            ):
                if metrics:
                    run.log({k: v - 0.1 for k, v in metrics.items()})
                    run.log(metrics)
                if exc is not None:
                    raise exc("stop")
        except (ValueError, KeyboardInterrupt):
            pass
    return store.open(root)


def ids(s: store.Store, where: str) -> list[str]:
    return sorted(s.runs(where=where)["run_id"].to_list())


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("params.lr > 1e-3 and status = 'finished'", ["q1"]),
        ('metrics."val/acc" >= 0.9', ["q1", "q3"]),
        ("metrics.\"val/acc\" >= 0.9 or name like '%resnet%'", ["q1", "q2", "q3"]),
        ("not (params.optimizer.name = 'sgd')", ["q2"]),
        ("params.optimizer.momentum is null", ["q2", "q3", "q4"]),
        ("status = 'failed'", ["q2"]),
        ("status in ('killed', 'failed')", ["q2", "q3"]),
        ("name like 'resnet%' and params.epochs >= 20", ["q2", "q3"]),
        ("name ilike 'RESNET-S%'", ["q3"]),
        ("name ~ '^resnet-(big|small)$' and not name like '%big'", ["q3"]),
        ('metrics_min."val/acc" < 0.8', ["q2"]),
        ("metrics_max.loss = 0.5", ["q2"]),
        ("array_contains(tags, 'baseline')", ["q1", "q3"]),
        ("experiment = 'digits'", ["q1", "q2", "q3", "q4"]),
        ("last_step = 1", ["q1", "q2", "q3"]),
        ("params.lr between 0.005 and 0.05", ["q1"]),
        ("   ", ["q1", "q2", "q3", "q4"]),
    ],
)
def test_where(zoo: store.Store, where: str, expected: list[str]) -> None:
    assert ids(zoo, where) == expected


def test_where_none_returns_everything(zoo: store.Store) -> None:
    assert zoo.runs(where=None).height == zoo.runs().height == 4


@pytest.mark.parametrize(
    "where",
    [
        "params.lr >",
        "status = = 'finished'",
        "name like",
        "(status = 'finished'",
        "status = 'finished'; drop table runs",
        "params.lr > 1e-3 and",
        "__import__('os').system('true')",
    ],
)
def test_bad_expression_raises_one_line_query_error(zoo: store.Store, where: str) -> None:
    with pytest.raises(store.QueryError) as err:
        zoo.runs(where=where)
    message = str(err.value)
    assert message and "\n" not in message
    assert isinstance(err.value, ValueError)  # callers may catch ValueError too


@pytest.mark.parametrize(
    "where",
    [
        "params.nope > 1",
        "params.optimizer.nope = 'x'",
        'metrics."no/such" > 0',
        "nosuchcolumn = 1",
    ],
)
def test_unknown_field_raises_query_error(zoo: store.Store, where: str) -> None:
    with pytest.raises(store.QueryError) as err:
        zoo.runs(where=where)
    assert "\n" not in str(err.value)


def test_params_with_types_that_differ_across_runs(root: Path) -> None:
    """The rule in store/frame.py: bools Boolean, ints Int64, ints+floats Float64, strings
    String; any other mix and lists become String (JSON text, strings unchanged); a path that
    is a leaf in one run and an object in another is one String column of JSON text."""
    params = {
        "m1": {
            "seed": 1,
            "opt": {"name": "sgd", "lr": 0.1},
            "flag": True,
            "mix": 1.5,
            "layers": [64, 32],
            "maybe": None,
            "big": 2**70,
            "n": 3,
        },
        "m2": {
            "seed": "abc",
            "opt": "adam",
            "flag": False,
            "mix": 2,
            "layers": "auto",
            "maybe": 4,
            "big": 1,
            "n": 4,
        },
        "m3": {"seed": True, "extra": {"deep": {"er": "x"}}},
    }
    for run_id, run_params in params.items():
        with store.Run(run_id=run_id, params=run_params, root=root):
            pass
    s = store.open(root)
    df = s.runs().sort("run_id")
    fields = dict(cast(pl.Struct, df.schema["params"]).to_schema())
    assert fields["seed"] == pl.String
    assert fields["opt"] == pl.String
    assert fields["flag"] == pl.Boolean
    assert fields["mix"] == pl.Float64
    assert fields["layers"] == pl.String
    assert fields["maybe"] == pl.Int64
    assert fields["big"] == pl.Float64
    assert fields["n"] == pl.Int64
    assert fields["extra"] == pl.Struct({"deep": pl.Struct({"er": pl.String})})
    p = df["params"].to_list()
    assert [r["seed"] for r in p] == ["1", "abc", "true"]
    assert json.loads(p[0]["opt"]) == {"name": "sgd", "lr": 0.1} and p[1]["opt"] == "adam"
    assert p[2]["opt"] is None
    assert [r["flag"] for r in p] == [True, False, None]
    assert [r["mix"] for r in p] == [1.5, 2.0, None]
    assert json.loads(p[0]["layers"]) == [64, 32] and p[1]["layers"] == "auto"
    assert [r["maybe"] for r in p] == [None, 4, None]
    assert [r["big"] for r in p] == [float(2**70), 1.0, None]
    assert p[2]["extra"] == {"deep": {"er": "x"}}
    # Filters still work over the unified columns, and RunInfo keeps the original params.
    assert ids(s, "params.seed = 'abc'") == ["m2"]
    assert ids(s, "params.mix > 1.7") == ["m2"]
    assert ids(s, "params.flag") == ["m1"]
    assert ids(s, "params.opt like '%sgd%'") == ["m1"]
    assert ids(s, "params.extra.deep.er = 'x'") == ["m3"]
    assert ids(s, "params.extra.deep.er is null") == ["m1", "m2"]
    assert s.run("m1").params == params["m1"]


def test_frame_of_a_store_without_params_or_metrics(root: Path) -> None:
    with store.Run(run_id="bare", root=root):
        pass
    s = store.open(root)
    df = s.runs()
    assert df["run_id"].to_list() == ["bare"]
    assert df["last_step"].to_list() == [None]
    assert ids(s, "status = 'finished'") == ["bare"]
    with pytest.raises(store.QueryError):
        s.runs(where="params.lr > 0")


def test_frame_of_an_empty_store(root: Path) -> None:
    root.mkdir()
    s = store.open(root)
    df = s.runs()
    assert df.height == 0
    assert {"run_id", "status", "params", "metrics", "tags", "path"} <= set(df.columns)
    assert s.runs(where="status = 'finished'").height == 0
    assert s.problems() == []


def test_an_integer_beyond_any_float_does_not_break_the_listing(tmp_path: Path) -> None:
    root = tmp_path / "mmruns"
    with store.Run(root=root, params={"seed": 10**400}, capture_system=False):
        pass
    with store.Run(root=root, params={"seed": 3}, capture_system=False):
        pass
    seeds = store.open(root).runs()["params"].struct.field("seed")
    assert seeds.dtype == pl.String
    assert sorted(seeds.to_list(), key=len) == ["3", str(10**400)]


def _frame_for_names() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "name": ["a", "b"],
            "status": ["finished", "failed"],
            "params": [
                {"lr": 0.1, "opt": {"lr": 1.0, "mom": 0.9}},
                {"lr": 0.01, "opt": {"lr": 2.0, "mom": 0.5}},
            ],
            "metrics": [
                {"val/acc": 0.9, "lr": 5.0, "score": 1.0},
                {"val/acc": 0.8, "lr": 6.0, "score": 2.0},
            ],
        }
    )


@pytest.mark.parametrize(
    ("where", "names"),
    [
        ("lr > 0.05", ["a"]),  # a param before the metric of the same name
        ("opt.lr > 1.5", ["b"]),  # a dotted tail of a nested param
        ("mom < 0.6", ["b"]),  # one param of that name, however deep
        ("score > 1.5", ["b"]),  # no param: the metric
    ],
)
def test_bare_keys_mean_a_param_else_a_metric(where: str, names: list[str]) -> None:
    assert query.apply(_frame_for_names(), where)["name"].to_list() == names


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (
            "metrics.val/acc > 0.9",
            """metric keys with '/' need double quotes: metrics."val/acc\"""",
        ),
        ("val/acc > 0.9", """metric keys with '/' need double quotes: metrics."val/acc\""""),
        ("status = finished", "no field 'finished'; text goes in single quotes: 'finished'"),
        ("status in (finished)", "no field 'finished'; text goes in single quotes: 'finished'"),
        ("parms.lr > 1", "no field 'parms.lr'; did you mean params.lr"),
        ("params.opt.lrr > 1", "no field 'params.opt.lrr'; did you mean params.opt.lr"),
        ("xyz > 1", "no field 'xyz'"),
    ],
)
def test_unknown_names_say_what_was_meant(where: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        query.apply(_frame_for_names(), where)
    assert str(caught.value).startswith(f"invalid filter {where!r}: {message}")


def test_a_key_of_several_params_lists_them() -> None:
    frame = pl.DataFrame({"params": [{"a": {"lr": 1.0}, "b": {"lr": 2.0}}]})
    with pytest.raises(QueryError, match=r"'lr' could be any of params\.a\.lr, params\.b\.lr"):
        query.apply(frame, "lr > 0")


def test_an_operator_that_is_not_allowed_lists_those_that_are() -> None:
    with pytest.raises(QueryError, match=r"operators that work: = != <> < <= > >="):
        query.apply(_frame_for_names(), "name # 1")
