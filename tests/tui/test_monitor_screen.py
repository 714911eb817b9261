"""The Monitor view: drift heatmap, quality against the baseline, story, live, snapshots."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mmtop import store
from mmtop.tui.screens.models import ModelsScreen
from mmtop.tui.screens.monitor import MonitorScreen

DAY0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FEATURES = ["age", "income", "score", "tenure"]
PER_DAY = 1500


def _data() -> tuple[Any, np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(
        n_samples=20_000, n_features=4, n_informative=3, n_redundant=0, random_state=1
    )
    return LogisticRegression().fit(x[:2000], y[:2000]), x, y


def log_day(root: Path, day: int, shifted: bool) -> None:
    model, x, y = _data()
    rows = slice(6000 + day * PER_DAY, 6000 + (day + 1) * PER_DAY)
    xs = x[rows].copy()
    if shifted:
        xs[:, 2] += 3.0
    frame = pl.DataFrame(xs, schema=FEATURES)
    ids = [f"{day}-{i}" for i in range(PER_DAY)]
    when = DAY0 + dt.timedelta(days=day, hours=3)
    with store.monitor("churn", "prod", root=root) as mon:
        mon.log(frame, model.predict(xs), ids=ids, latency_ms=np.linspace(2, 9, PER_DAY), time=when)
        mon.log_labels(ids[: PER_DAY // 2], y[rows][: PER_DAY // 2], time=when)


def build(root: Path, h: Any) -> None:
    h.build_store(root)
    model, x, y = _data()
    s = store.open(root)
    s.register_model(
        "churn",
        model,
        baseline=pl.DataFrame(x[2000:6000], schema=FEATURES),
        baseline_y=y[2000:6000],
    )
    s.deploy("churn/1", "prod")
    for day in range(6):
        log_day(root, day, shifted=day >= 4)
    # Registration and deployment times as the runs fixture pins its clock.
    for i, path in enumerate(sorted(root.glob("_models/*/events/*.json"))):
        doc = json.loads(path.read_text())
        doc.update(time=(DAY0 - dt.timedelta(hours=2 - i)).isoformat(), user="alice", host="box")
        path.write_text(json.dumps(doc))


@pytest.fixture
def monitored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, h: Any) -> Path:
    build(tmp_path / "store", h)
    monkeypatch.chdir(tmp_path)
    return Path("store")


async def _monitor_ready(pilot: Any, h: Any) -> MonitorScreen:
    await h.loaded(pilot)
    await pilot.press("M")
    models = pilot.app.screen
    assert isinstance(models, ModelsScreen)
    await h.wait_for(pilot, lambda: models.loads >= 1 and models.detail_loads >= 1)
    await pilot.press("v")
    await h.wait_for(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen))
    screen = pilot.app.screen
    assert isinstance(screen, MonitorScreen)
    await h.wait_for(pilot, lambda: screen.loads >= 1)
    await pilot.pause()
    return screen


async def test_monitor_view_shows_drift_quality_and_story(monitored: Path, h: Any) -> None:
    app = h.make_app(monitored)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor_ready(pilot, h)
        assert screen.features[0] == "score"  # the shifted feature, worst first
        text = screen.text
        assert text.startswith("monitor: churn at prod  ALERT  ")
        assert "of 6 windows · window 1d" in text
        assert "▶score" in text and "feature score  latest window: psi " in text
        assert "accuracy per window  (---- validation " in text
        assert "v1 (prod since 2025-12-31 23:00 UTC)" in text
        assert "drift alert on score from 2026-01-05 00:00 UTC (2 windows)" in text
        await pilot.press("j")
        await pilot.pause()
        assert screen.feature == screen.features[1]
        await pilot.press("w")  # hourly windows: each day's predictions share one hour
        await h.wait_for(pilot, lambda: screen.loads >= 2)
        assert screen.report.window == "1h" and screen.report.windows.height == 6
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ModelsScreen)


async def test_monitor_view_shows_data_quality_alerts(monitored: Path, h: Any) -> None:
    model, x, _ = _data()
    xs = x[:PER_DAY]
    frame = pl.DataFrame(xs, schema=FEATURES).with_columns(
        pl.when(pl.int_range(pl.len()) % 5 < 2)
        .then(None)
        .otherwise(pl.col("income"))
        .alias("income")
    )
    with store.monitor("churn", "prod", root=monitored) as mon:
        mon.log(frame, model.predict(xs), time=DAY0 + dt.timedelta(days=6, hours=3))
    app = h.make_app(monitored)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor_ready(pilot, h)
        text = screen.text
        # Shifted by 3 std, 5% of score's values on day 5 lie beyond the baseline's maximum.
        assert (
            "data quality alerts (!): 2\n"
            "  w5 0.0507 of score outside the baseline's range\n"
            "  w6 null share of income 0.4 (baseline 0)\n"
        ) in text
        income = next(line for line in text.splitlines() if line.startswith(" income "))
        assert income.endswith("!!")  # the newest window's cell, and only that one
        assert income.count("!") == 2


async def test_monitor_view_is_live(monitored: Path, h: Any) -> None:
    app = h.make_app(monitored, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor_ready(pilot, h)
        assert screen.report.windows.height == 6
        log_day(Path(monitored), 6, shifted=False)
        await h.wait_for(pilot, lambda: screen.report.windows.height == 7, timeout=15)


async def test_monitor_key_warns_when_not_deployed(
    tmp_path: Path, monkeypatch: Any, h: Any
) -> None:
    root = tmp_path / "store"
    h.build_store(root)
    weights = tmp_path / "w.onnx"
    weights.write_bytes(b"w")
    store.open(root).register_model("plain", path=weights)
    monkeypatch.chdir(tmp_path)
    app = h.make_app(Path("store"))
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        await pilot.press("M")
        models = app.screen
        await h.wait_for(pilot, lambda: getattr(models, "detail_loads", 0) >= 1)
        await pilot.press("v")
        await h.wait_for(
            pilot,
            lambda: (
                [n.message for n in app._notifications]
                == ["plain is not deployed: mmtop models deploy REF --target T"]
            ),
        )
        assert isinstance(app.screen, ModelsScreen)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_monitor_view_snapshot(
    monitored: Path, snap_compare: Any, h: Any, size: tuple[int, int]
) -> None:
    async def ready(pilot: Any) -> None:
        await _monitor_ready(pilot, h)

    app = h.make_app(monitored)
    assert snap_compare(app, terminal_size=size, run_before=ready)


async def test_the_monitor_report_shows_a_focus_bar(monitored: Path, h: Any) -> None:
    app = h.make_app(monitored)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _monitor_ready(pilot, h)
        await h.focus_bars(pilot, [screen.query_one("#monitor-body")])
