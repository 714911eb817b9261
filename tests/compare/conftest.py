"""Fixtures of the compare screen tests: a deterministic store built with store.Run, and a
tiny app that pushes `CompareScreen(store.open(root), ids)`.

Everything shown is fixed: params, metric values, env.json/code.json contents, dataset
contents, system samples (written as a documented system/ part with fixed times). Captures
that read the machine are off. With `--import-mode=importlib` helpers are handed out as
fixtures rather than imported.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from textual.app import App
from textual.pilot import Pilot

from mmtop import store
from mmtop.store.parts import write_part
from mmtop.store.paths import part_name
from mmtop.store.schema import POINT_SCHEMA
from mmtop.tui.screens.compare import CompareScreen

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


# name, params, data version (the "b" data differs), python, numpy, commit, dirty
RUNS: list[tuple[str, dict[str, Any], str, str, str, str, bool]] = [
    (
        "sgd-s1",
        {"lr": 0.1, "seed": 1, "batch": 32, "model": {"kind": "sgd", "depth": 2}},
        "a",
        "3.11.7",
        "1.26.4",
        "aaaa1111",
        False,
    ),
    (
        "sgd-s2",
        {"lr": 0.1, "seed": 2, "batch": 32, "model": {"kind": "sgd", "depth": 2}},
        "a",
        "3.11.7",
        "1.26.4",
        "aaaa1111",
        False,
    ),
    (
        "adam-s1",
        {"lr": 0.01, "seed": 1, "batch": 32, "model": {"kind": "adam", "depth": 3}},
        "a",
        "3.11.7",
        "2.1.0",
        "bbbb2222",
        True,
    ),
    (
        "adam-s2",
        {"lr": 0.01, "seed": 2, "batch": 32, "model": {"kind": "adam", "depth": 3}},
        "b",
        "3.12.1",
        "2.1.0",
        "bbbb2222",
        False,
    ),
]
STEPS = 20


def loss(run: int, step: int) -> float:
    return round(2.0 / (step + 1) + 0.05 * run, 6)


def acc(run: int, step: int) -> float:
    return round(0.5 + 0.02 * step + 0.01 * run, 6)


@dataclass
class Sample:
    root: Path
    ids: list[str]  # in RUNS order


def write_system(run_path: Path, index: int) -> None:
    """Two system keys over five samples, with fixed times: a documented system/ part."""
    rows = [
        (s, T0 + timedelta(seconds=5 * s), key, value)
        for s in range(5)
        for key, value in (("sys/cpu_pct", 10.0 * index + s), ("sys/rss_mb", 100.0 + index))
    ]
    table = pa.table(
        {
            "step": pa.array([r[0] for r in rows], pa.int64()),
            "time": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
            "key": pa.array([r[2] for r in rows]).dictionary_encode(),
            "value": pa.array([r[3] for r in rows], pa.float64()),
        }
    ).cast(POINT_SCHEMA)
    folder = run_path / "system"
    folder.mkdir(exist_ok=True)
    write_part(folder / part_name("fixture", 1), table)


def build_store(root: Path, runs: list[tuple[Any, ...]] = RUNS, *, extras: bool = True) -> Sample:
    ids = []
    for i, (name, params, data, python, numpy, commit, dirty) in enumerate(runs):
        with store.Run(
            experiment="digits",
            name=name,
            params=params,
            root=root,
            capture_env=False,
            capture_code=False,
            capture_system=False,
        ) as run:
            for step in range(STEPS):
                run.log({"train/loss": loss(i, step), "val/acc": acc(i, step)}, step=step)
            run.summary["test/acc"] = round(0.9 + 0.01 * i, 6)
            if extras:
                rows = [1, 2, 3] if data == "a" else [1, 2, 4]
                run.log_dataset({"x": rows}, name="train")
                run.log_dataset({"y": [5, 6]}, name="val")
        if extras:
            env = {"python": {"version": python}, "packages": {"numpy": numpy, "polars": "1.0"}}
            code = {"git": {"commit": commit, "branch": "main", "dirty": dirty}}
            (run.path / "env.json").write_text(json.dumps(env), encoding="utf-8")
            (run.path / "code.json").write_text(json.dumps(code), encoding="utf-8")
            write_system(run.path, i)
        ids.append(run.run_id)
    return Sample(root, ids)


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """Four runs: two seeds each of sgd and adam; adam-s2 was trained on other data."""
    return build_store(tmp_path_factory.mktemp("compare") / "mmruns")


class CompareApp(App[None]):
    """Hosts the compare screen over a plain screen, as the runs screen would."""

    def __init__(self, root: Path, ids: list[str]) -> None:
        super().__init__()
        self.root = root
        self.ids = ids
        self.run_colours: dict[str, str] = {}  # the runs screen's, which is not here
        # Pilot waits for animations to end; the tab underline's would cost each switch.
        self.animation_level = "none"

    def on_mount(self) -> None:
        self.push_screen(CompareScreen(store.open(self.root), self.ids))


@pytest.fixture
def compare_app() -> Callable[[Path, list[str]], CompareApp]:
    return CompareApp


@pytest.fixture
def until_loaded(wait_for: Any) -> Callable[[Pilot[Any]], Awaitable[CompareScreen]]:
    async def loaded(pilot: Pilot[Any]) -> CompareScreen:
        """The compare screen once its tables and first chart pages are filled."""
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
        screen = pilot.app.screen
        assert isinstance(screen, CompareScreen)
        await wait_for(
            pilot, lambda: screen.loads >= 1 and screen.charts_ready, what="the compare screen"
        )
        await pilot.pause()
        return screen

    return loaded


@pytest.fixture
def make_store() -> Callable[..., Sample]:
    return build_store


@pytest.fixture
def runs() -> list[tuple[Any, ...]]:
    return list(RUNS)


class Ui:
    """Reading the compare screen back in tests."""

    @staticmethod
    def table(screen: CompareScreen, tab: str) -> Any:
        from mmtop.tui.widgets.compare_table import CompareTable

        return screen.query_one(f"TabPane#{tab} CompareTable", CompareTable)

    @staticmethod
    def head(screen: CompareScreen) -> str:
        from textual.widgets import Static

        return str(screen.query_one("#compare-head", Static).render())

    @staticmethod
    def text(screen: CompareScreen, selector: str) -> str:
        from textual.widgets import Static

        return str(screen.query_one(selector, Static).render())

    @staticmethod
    def metric_row(screen: CompareScreen, key: str, stat: str) -> list[str]:
        t = Ui.table(screen, "metrics")
        for r in range(t.row_count):
            if t.text_at(r, 0).split(" ")[0] == key and t.text_at(r, 1) == stat:
                return [t.text_at(r, c) for c in range(len(t.columns))]
        raise AssertionError(f"no row {key} {stat}")


@pytest.fixture
def ui() -> type[Ui]:
    return Ui
