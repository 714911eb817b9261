"""What a training script logs is what a reader gets back: params, metrics, tags, summary."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import SupportsFloat, cast

import numpy as np
import polars as pl
import pytest

from mmtop import store
from mmtop.store.parts import SMALL_PART_ROWS

PARAMS = {
    "lr": 0.01,
    "epochs": 20,
    "nesterov": True,
    "schedule": None,
    "layers": [64, 32],
    "model": {"kind": "sgd", "penalty": {"name": "l2", "alpha": 1e-4}},
}


def _history(root: Path, run_id: str) -> dict[str, list[tuple[int, float]]]:
    df = store.open(root).history(run_id)
    out: dict[str, list[tuple[int, float]]] = {}
    for key, step, value in df.select("key", "step", "value").iter_rows():
        out.setdefault(key, []).append((step, value))
    return out


def test_params_tags_status_round_trip(root: Path) -> None:
    with store.Run(
        experiment="digits", name="sgd-lr0.01", params=PARAMS, tags=["baseline", "v2"], root=root
    ) as run:
        run.log({"train/loss": 0.5}, step=0)
    assert run.path == root / "digits" / run.run_id
    info = store.open(root).run(run.run_id)
    assert info.params == PARAMS
    assert info.tags == ["baseline", "v2"]
    assert info.status == "finished"
    assert (info.experiment, info.name) == ("digits", "sgd-lr0.01")
    assert info.ended is not None and info.created is not None and info.ended >= info.created
    assert info.error is None

    row = store.open(root).runs().row(0, named=True)
    assert row["run_id"] == run.run_id
    assert row["status"] == "finished"
    assert row["tags"] == ["baseline", "v2"]
    assert row["params"]["model"]["penalty"] == {"alpha": 1e-4, "name": "l2"}
    assert row["params"]["lr"] == 0.01 and row["params"]["epochs"] == 20
    assert row["params"]["nesterov"] is True
    assert row["path"] == str(run.path)
    assert row["last_step"] == 0
    assert row["duration_s"] >= 0


def test_metric_values_round_trip_exactly(root: Path) -> None:
    logged = {
        "float": 0.1 + 0.2,
        "tiny": 5e-324,
        "huge": 1.7976931348623157e308,
        "neg_zero": -0.0,
        "nan": float("nan"),
        "inf": float("inf"),
        "ninf": float("-inf"),
        "np_f32": np.float32(0.1),
        "np_f64": np.float64(2.5),
        "np_i64": np.int64(-7),
        "np_bool": np.bool_(True),
        "arr0d": np.array(3.25),
        "true": True,
        "false": False,
        "int": 2**53,
        "neg_int": -12,
    }
    with store.Run(experiment="e", root=root) as run:
        run.log(logged, step=3)
    hist = _history(root, run.run_id)
    assert set(hist) == set(logged)
    expected = {k: float(cast(SupportsFloat, v)) for k, v in logged.items()}
    expected["np_f32"] = float(np.float32(0.1))  # the float32 value, widened exactly
    for key, want in expected.items():
        [(step, got)] = hist[key]
        assert step == 3
        if math.isnan(want):
            assert math.isnan(got), key
        else:
            assert got == want, key
            assert math.copysign(1.0, got) == math.copysign(1.0, want), key
    assert hist["true"] == [(3, 1.0)] and hist["false"] == [(3, 0.0)]

    row = store.open(root).runs().row(0, named=True)
    assert row["metrics"]["inf"] == math.inf and row["metrics"]["ninf"] == -math.inf
    assert math.isnan(row["metrics"]["nan"])
    assert row["metrics_min"]["int"] == 2.0**53


def test_steps_auto_increment_and_history_is_step_ordered(root: Path) -> None:
    with store.Run(root=root) as run:
        run.log({"a": 1.0})
        run.log({"a": 2.0})
        run.log({"a": 3.0, "b": 30.0})
        run.log({"a": 4.0}, step=10)
        run.log({"a": 5.0})
        run.log({"b": 6.0}, step=cast(int, np.int64(20)))  # a numpy int, as training loops pass
    hist = _history(root, run.run_id)
    assert hist["a"] == [(0, 1.0), (1, 2.0), (2, 3.0), (10, 4.0), (11, 5.0)]
    assert hist["b"] == [(2, 30.0), (20, 6.0)]
    info = store.open(root).run(run.run_id)
    assert info.last_step == 20
    assert info.summary["a"]["last"] == 5.0 and info.summary["a"]["last_step"] == 11
    assert info.summary["a"]["min"] == 1.0 and info.summary["a"]["max"] == 5.0
    assert info.summary["a"]["count"] == 5


def test_bad_steps_are_refused(root: Path) -> None:
    with store.Run(root=root) as run:
        for bad in (-1, True, 1.5, "3", None, [1]):
            if bad is None:
                continue  # None means "next step"
            with pytest.raises((TypeError, ValueError)):
                run.log({"a": 1.0}, step=bad)  # type: ignore[arg-type]
        run.log({"a": 1.0})
    assert _history(root, run.run_id) == {"a": [(0, 1.0)]}


def test_log_params_merges_nested_dicts(root: Path) -> None:
    with store.Run(root=root, params={"model": {"kind": "sgd", "alpha": 1}, "lr": 0.1}) as run:
        run.log_params({"model": {"alpha": 2, "depth": 3}, "epochs": 20})
        run.log_params({"lr": 0.05})
    info = store.open(root).run(run.run_id)
    assert info.params == {
        "model": {"kind": "sgd", "alpha": 2, "depth": 3},
        "lr": 0.05,
        "epochs": 20,
    }
    on_disk = json.loads((run.path / "params.json").read_text())
    assert on_disk == info.params


def test_summary_values(root: Path) -> None:
    with store.Run(root=root) as run:
        run.log({"val/acc": 0.8}, step=0)
        run.summary["test/acc"] = 0.97
        run.summary["test/loss"] = np.float64(0.125)
        run.summary.update({"test/n": 10})
        with pytest.raises(TypeError, match="test/bad"):
            run.summary["test/bad"] = "high"
    info = store.open(root).run(run.run_id)
    assert info.values == {"test/acc": 0.97, "test/loss": 0.125, "test/n": 10.0}
    metrics = store.open(root).runs().row(0, named=True)["metrics"]
    assert metrics["test/acc"] == 0.97 and metrics["val/acc"] == 0.8
    assert "test/bad" not in metrics


def test_finish_without_with(root: Path) -> None:
    run = store.Run(experiment="plain", root=root)
    run.log({"x": 1.0})
    assert store.open(root).run(run.run_id).status == "running"
    run.finish()
    run.finish()  # idempotent
    info = store.open(root).run(run.run_id)
    assert info.status == "finished"
    assert _history(root, run.run_id) == {"x": [(0, 1.0)]}
    with pytest.raises(RuntimeError):
        run.log({"x": 2.0})


@pytest.mark.parametrize(
    "bad", ["0.5", b"1", None, [1.0], {"v": 1.0}, object(), np.array([1.0, 2.0]), 1 + 2j]
)
def test_bad_value_names_the_key_and_logs_nothing(root: Path, bad: object) -> None:
    with store.Run(root=root) as run:
        with pytest.raises((TypeError, ValueError)) as err:
            run.log({"ok/first": 1.0, "the/bad/key": bad, "ok/last": 2.0})
        assert "the/bad/key" in str(err.value)
        run.log({"after": 1.0})
    hist = _history(root, run.run_id)
    # Nothing of the failed call, and it did not use up a step.
    assert hist == {"after": [(0, 1.0)]}
    assert set(store.open(root).run(run.run_id).summary) == {"after"}


def test_overflowing_int_is_refused_and_logs_nothing(root: Path) -> None:
    with store.Run(root=root) as run:
        with pytest.raises((TypeError, ValueError, OverflowError)) as err:
            run.log({"ok": 1.0, "big": 10**400})
        assert "big" in str(err.value)
    assert _history(root, run.run_id) == {}


@pytest.mark.parametrize(
    "key", ["", "k" * 257, "a\nb", "a\x00b", "tab\there", "bell\x07", "\x1b[31mred", 3, None]
)
def test_bad_keys_are_refused(root: Path, key: object) -> None:
    with store.Run(root=root) as run:
        with pytest.raises((TypeError, ValueError)):
            run.log({"ok": 1.0, key: 2.0})  # type: ignore[dict-item]
        with pytest.raises((TypeError, ValueError)):
            run.summary[key] = 1.0  # type: ignore[index]
        run.log({"k" * 256: 1.0, "unicode/ключ": 2.0})
    assert set(_history(root, run.run_id)) == {"k" * 256, "unicode/ключ"}


@pytest.mark.parametrize(
    "name",
    [
        "..",
        ".",
        "a/b",
        "/abs",
        "a\\b",
        "a\x00b",
        "tab\tname",
        "new\nline",
        ".hidden",
        "_models",
        "   ",
        " padded",
        "x" * 201,
    ],
)
def test_bad_experiment_names_are_refused(root: Path, name: str) -> None:
    with pytest.raises(ValueError, match="experiment name"):
        store.Run(experiment=name, root=root)
    leftovers = [p.name for p in root.iterdir()] if root.exists() else []
    assert set(leftovers) <= {"mmtop-store.json"}


@pytest.mark.parametrize("name", [None, "", 3, b"bytes"])
def test_non_text_experiment_names_are_refused(root: Path, name: object) -> None:
    if name is None:
        with store.Run(experiment=name, root=root) as run:
            pass
        assert run.experiment == "default"  # no experiment given: the default one
        return
    if name == "":
        with pytest.raises(ValueError, match="experiment name must not be empty"):
            store.Run(experiment=name, root=root)
        return
    with pytest.raises(TypeError):
        store.Run(experiment=name, root=root)  # type: ignore[arg-type]


def test_bad_run_names_and_tags_are_refused(root: Path) -> None:
    for kwargs in ({"name": "a\x1b[2Jb"}, {"tags": ["ok", "bad\nline"]}, {"tags": [""]}):
        with pytest.raises(ValueError):
            store.Run(root=root, **kwargs)
    assert not root.exists()  # refused before anything was written


def test_run_frame_columns_and_types(root: Path) -> None:
    with store.Run(experiment="e", root=root, params={"lr": 0.1}) as run:
        run.log({"m": 1.0})
    df = store.open(root).runs()
    assert df.schema["run_id"] == pl.String
    assert df.schema["created"] == pl.Datetime("us", "UTC")
    assert df.schema["ended"] == pl.Datetime("us", "UTC")
    assert df.schema["duration_s"] == pl.Float64
    assert df.schema["last_step"] == pl.Int64
    assert df.schema["tags"] == pl.List(pl.String)
    assert df.schema["metrics"] == pl.Struct({"m": pl.Float64})
    for col in ("experiment", "name", "status", "host", "user", "pid", "command", "path"):
        assert col in df.columns
    assert df.row(0, named=True)["pid"] == run.meta["pid"]


def test_default_root_is_mmtop_dir_else_mmruns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.Run(experiment="e") as run:  # cwd is tmp_path (conftest)
        run.log({"x": 1.0})
    assert run.path.parent.parent.resolve() == (tmp_path / "mmruns").resolve()
    assert store.open().runs()["run_id"].to_list() == [run.run_id]

    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("MMTOP_DIR", str(elsewhere))
    with store.Run(experiment="e") as other:
        other.log({"x": 2.0})
    assert other.path.parent.parent == elsewhere
    s = store.open()
    assert s.root == elsewhere and not s.read_only
    assert s.runs()["run_id"].to_list() == [other.run_id]


def test_a_big_flush_between_small_ones_stays_readable(root: Path) -> None:
    run = store.Run(root=root, flush_every=600, capture_system=False)
    run.log({"slow": 0.0}, step=0)
    run.flush()
    calls = SMALL_PART_ROWS // 10 + 1  # one flush of more than SMALL_PART_ROWS points
    keys = [f"k{i}" for i in range(10)]
    for step in range(1, calls + 1):
        run.log(dict.fromkeys(keys, float(step)), step=step)
    run.flush()
    for step in range(calls + 1, calls + 4):
        run.log({"slow": float(step)}, step=step)
        run.flush()
    run.finish()
    history = store.open(root).history(run.run_id)
    assert history.height == 1 + calls * 10 + 3
    assert history.filter(key="k3")["step"].to_list() == list(range(1, calls + 1))
    assert history.filter(key="slow")["value"].to_list() == [
        0.0,
        *map(float, range(calls + 1, calls + 4)),
    ]
