"""Finding a run by reference, and reading (downsampled) histories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmtop import store


@pytest.fixture
def three(root: Path) -> store.Store:
    for run_id, exp, name in [
        ("20261127T015823Z-3f9a1c", "digits", "sgd"),
        ("20261127T015823Z-3f9b2d", "digits", "adam"),
        ("20261128T120000Z-aaaaaa", "mnist", "sgd"),
        ("20261128T130000Z-bbbbbb", "mnist", "sgd"),
    ]:
        with store.Run(run_id=run_id, experiment=exp, name=name, root=root) as run:
            run.log({"x": 1.0})
    return store.open(root)


def test_resolve_full_id_prefix_and_experiment_name(three: store.Store) -> None:
    assert three.resolve("20261127T015823Z-3f9a1c") == "20261127T015823Z-3f9a1c"
    assert three.resolve("20261127T015823Z-3f9b") == "20261127T015823Z-3f9b2d"
    assert three.resolve("20261128T12") == "20261128T120000Z-aaaaaa"
    assert three.resolve("digits/adam") == "20261127T015823Z-3f9b2d"
    assert three.resolve("  digits/sgd ") == "20261127T015823Z-3f9a1c"
    assert three.run("digits/adam").name == "adam"
    assert three.run("20261128T13").experiment == "mnist"


def test_ambiguous_reference_lists_candidates(three: store.Store) -> None:
    with pytest.raises(store.AmbiguousRunError) as err:
        three.resolve("20261127T015823Z-3f9")
    assert sorted(err.value.candidates) == ["20261127T015823Z-3f9a1c", "20261127T015823Z-3f9b2d"]
    assert "20261127T015823Z-3f9a1c" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(store.AmbiguousRunError) as err:
        three.resolve("mnist/sgd")
    assert sorted(err.value.candidates) == ["20261128T120000Z-aaaaaa", "20261128T130000Z-bbbbbb"]
    with pytest.raises(KeyError):  # one family for "which run?" errors
        three.resolve("2026")


@pytest.mark.parametrize("ref", ["nope", "digits/nope", "nope/sgd", "3f9a1c", "", "   "])
def test_unknown_reference_raises_not_found(three: store.Store, ref: str) -> None:
    with pytest.raises(store.RunNotFoundError) as err:
        three.resolve(ref)
    assert "\n" not in str(err.value)
    with pytest.raises(store.RunNotFoundError):
        three.run(ref)


def test_history_of_several_runs_and_keys(root: Path) -> None:
    ids = []
    for r in range(3):
        with store.Run(root=root, flush_every=600) as run:
            for step in range(10):
                run.log({"a": r * 100 + step, "b": -step, "c": 0.5}, step=step)
        ids.append(run.run_id)
    s = store.open(root)
    df = s.history(ids, keys=["a", "b"])
    assert df.columns == ["run_id", "key", "step", "time", "value"]
    assert df.schema["time"] == pl.Datetime("us", "UTC")
    assert df.height == 3 * 2 * 10
    for r, run_id in enumerate(ids):
        a = df.filter((pl.col("run_id") == run_id) & (pl.col("key") == "a"))
        assert a["step"].to_list() == list(range(10))
        assert a["value"].to_list() == [float(r * 100 + i) for i in range(10)]
    assert s.history(ids[0], keys="c")["value"].to_list() == [0.5] * 10
    assert s.history(ids[0], keys=["nope"]).height == 0
    assert s.history([]).height == 0
    with pytest.raises(store.RunNotFoundError):
        s.history(["no-such-run"])


def test_downsampling_keeps_global_extremes_and_about_n_points(root: Path) -> None:
    n, max_points = 100_000, 500
    rng = np.random.default_rng(7)
    values = rng.normal(0.0, 1.0, n)
    values[31_337] = 50.0  # a lone spike ...
    values[77_777] = -50.0  # ... and a lone dip, both far from any bucket edge
    with store.Run(root=root, flush_every=600) as run:
        for step, v in enumerate(values.tolist()):
            run.log({"loss": v, "acc": 0.5}, step=step)
    s = store.open(root)
    full = s.history(run.run_id, keys="loss")
    assert full.height == n
    small = s.history(run.run_id, keys=["loss"], max_points=max_points)
    assert 0.9 * max_points <= small.height <= max_points + 2
    assert small["value"].max() == 50.0 and small["value"].min() == -50.0
    steps = small["step"].to_list()
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert steps[0] == 0 and steps[-1] == n - 1  # the ends are kept
    # Every kept point is a real one, with its own value.
    assert small["value"].to_list() == [values[i] for i in steps]
    # A short series is returned whole.
    both = s.history(run.run_id, max_points=max_points)
    assert both.filter(pl.col("key") == "loss").height == small.height


def test_downsampling_keeps_nan_and_short_series(root: Path) -> None:
    with store.Run(root=root, flush_every=600) as run:
        for step in range(1000):
            run.log({"x": float("nan") if step == 500 else float(step)}, step=step)
        for step in range(5):
            run.log({"short": float(step)}, step=step)
    df = store.open(root).history(run.run_id, max_points=100)
    x = df.filter(pl.col("key") == "x")
    assert x["value"].is_nan().sum() == 1
    assert x["value"].fill_nan(None).max() == 999.0 and x["value"].fill_nan(None).min() == 0.0
    assert df.filter(pl.col("key") == "short")["value"].to_list() == [0.0, 1.0, 2.0, 3.0, 4.0]


@given(
    lengths=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=4),
    max_points=st.integers(min_value=4, max_value=64),
    seed=st.integers(min_value=0, max_value=2**16),
)
@settings(max_examples=60, deadline=None)
def test_downsample_keeps_ends_extremes_and_short_series(
    lengths: list[int], max_points: int, seed: int
) -> None:
    import random

    from mmtop.store.history import downsample

    rng = random.Random(seed)
    rows = []
    for i, n in enumerate(lengths):
        for step in range(n):
            value = rng.choice([rng.uniform(-1, 1), float("nan")]) if n > 3 else rng.random()
            rows.append((f"r{i}", "k", step, value))
    df = pl.DataFrame(rows, schema=["run_id", "key", "step", "value"], orient="row").with_columns(
        pl.lit(0).cast(pl.Datetime("us", "UTC")).alias("time")
    )
    out = downsample(df, max_points)
    for i, n in enumerate(lengths):
        full = df.filter(run_id=f"r{i}")
        got = out.filter(run_id=f"r{i}")
        assert got["step"].to_list() == sorted(got["step"].to_list())
        if n <= max_points:
            assert got["step"].to_list() == list(range(n))
            continue
        assert got["step"][0] == 0 and got["step"][-1] == n - 1
        finite = full.filter(pl.col("value").is_not_nan())
        if finite.height:
            assert got["value"].fill_nan(None).min() == finite["value"].min()
            assert got["value"].fill_nan(None).max() == finite["value"].max()
        assert got["value"].is_nan().any() == full["value"].is_nan().any()
        assert got.height <= 3 * (max_points // 2) + 2


def test_history_on_a_fresh_store_lists_the_root_once_not_every_run_folder(
    three: store.Store, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmtop.store import reader

    listed: list[str] = []
    real = reader._subdirs

    def counting(folder: str, problems: list[store.Problem]) -> list[str]:
        listed.append(folder)
        found: list[str] = real(folder, problems)
        return found

    monkeypatch.setattr(reader, "_subdirs", counting)
    ids = ["20261127T015823Z-3f9a1c", "20261128T120000Z-aaaaaa", "20261128T130000Z-bbbbbb"]
    fresh = store.open(root)
    h = fresh.history(ids, keys="x")
    assert sorted(set(h["run_id"].to_list())) == ids
    assert listed == [str(root)]  # the experiments once; no experiment folder listed
    listed.clear()
    assert fresh.history("digits/adam", keys="x")["run_id"].to_list() == ["20261127T015823Z-3f9b2d"]
    fresh.history(ids, keys="x")
    assert listed.count(str(root)) == 1  # only the `experiment/name` reference listed


def test_history_finds_a_run_moved_since_the_listing(three: store.Store, root: Path) -> None:
    three.runs()
    (root / "other").mkdir()
    (root / "digits" / "20261127T015823Z-3f9a1c").rename(root / "other" / "20261127T015823Z-3f9a1c")
    h = three.history("20261127T015823Z-3f9a1c", keys="x")
    assert h["value"].to_list() == [1.0]
    assert three.run("20261127T015823Z-3f9a1c").experiment == "other"
