"""Fixture stores for the app's tests, written with `store.Run` into tmp_path.

Run ids are fixed and run.json times, host, user, pid and command are rewritten after the
runs finish, so that what the app shows (ages, durations, ids) is the same on every machine
and snapshots are stable. `NOW` is the clock the app is given.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.cells import cell_len
from textual.widget import Widget

from mmtop import store
from mmtop.tui.app import MmtopApp
from mmtop.tui.launch import Launch
from mmtop.tui.widgets.runs_table import RunsTable

BASE = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
NOW = BASE + timedelta(days=1)


@dataclass
class Spec:
    name: str
    experiment: str = "digits"
    params: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    steps: int = 20
    status: str = "finished"  # finished | failed | killed | crashed
    scale: float = 1.0


SPECS = [
    Spec(
        "sgd-lr0.1",
        params={"lr": 0.1, "model": {"kind": "sgd"}, "epochs": 20},
        tags=["baseline"],
        scale=1.0,
    ),
    Spec(
        "sgd-lr0.01",
        params={"lr": 0.01, "model": {"kind": "sgd"}, "epochs": 20},
        tags=["sweep"],
        scale=0.8,
    ),
    Spec(
        "mlp-lr0.01",
        params={"lr": 0.01, "model": {"kind": "mlp"}, "epochs": 20},
        tags=["sweep"],
        scale=0.6,
        status="failed",
    ),
    Spec(
        "mlp-lr0.001",
        params={"lr": 0.001, "model": {"kind": "mlp"}, "epochs": 20},
        tags=["sweep"],
        scale=0.5,
        status="killed",
    ),
    Spec(
        "resnet-a",
        experiment="cifar",
        params={"lr": 0.05, "model": {"kind": "resnet"}, "epochs": 20},
        tags=["gpu"],
        scale=0.7,
    ),
    Spec(
        "resnet-b",
        experiment="cifar",
        params={"lr": 0.05, "model": {"kind": "resnet"}, "epochs": 20},
        tags=["gpu"],
        scale=0.9,
        status="crashed",
    ),
]


def run_id(i: int) -> str:
    return f"20260105T09{i:02d}00Z-{i:06x}"


def write_run(root: Path, i: int, spec: Spec, **capture: Any) -> str:
    """One finished run with train/loss and val/acc curves; returns its id."""
    options: dict[str, Any] = {
        "capture_env": False,
        "capture_code": False,
        "capture_system": False,
    }
    options.update(capture)
    run = store.Run(
        experiment=spec.experiment,
        name=spec.name,
        params=spec.params,
        tags=spec.tags,
        root=root,
        run_id=run_id(i),
        **options,
    )
    for step in range(spec.steps):
        run.log(
            {
                "train/loss": spec.scale * math.exp(-step / 6),
                "val/acc": 1 - 0.5 * spec.scale * math.exp(-step / 8),
            },
            step=step,
        )
    run.finish("finished" if spec.status == "crashed" else spec.status)
    return run.run_id


def fix_meta(root: Path, i: int, experiment: str, status: str | None = None) -> None:
    """Pin what varies between machines; a `crashed` run is a running one with no heartbeat."""
    folder = root / experiment / run_id(i)
    path = folder / "run.json"
    meta = json.loads(path.read_text())
    created = BASE + timedelta(minutes=10 * i)
    meta.update(
        created=created.isoformat(),
        ended=(created + timedelta(seconds=65 * (i + 1))).isoformat(),
        host="gpu-box",
        user="alice",
        pid=4242,
        command=["train.py", "--epochs", "20"],
    )
    if status == "crashed":
        meta.update(status="running", ended=None)
        (folder / "heartbeat").unlink(missing_ok=True)
    path.write_text(json.dumps(meta))


def build_store(root: Path, specs: list[Spec] | None = None) -> list[str]:
    ids = []
    for i, spec in enumerate(specs or SPECS):
        ids.append(write_run(root, i, spec))
        fix_meta(root, i, spec.experiment, spec.status)
    return ids


def make_app(root: Path, **kwargs: Any) -> MmtopApp:
    launch = kwargs.pop("launch", None) or Launch(root, "path")
    kwargs.setdefault("watch", False)
    return MmtopApp(launch, now=lambda: NOW, **kwargs)


def names(app: MmtopApp) -> list[str]:
    """Run names in table order, as the table holds them."""
    table = app.screen.query_one("#runs-table", RunsTable)
    view = table.view
    return [str(row[0]) for row in table.model.rows(view, 0, len(view), ["name"])]


# One <text> element of Rich's SVG export: its x offset, its width, its line, its text.
_SVG_TEXT = re.compile(
    r'<text [^>]*?x="([\d.]+)"[^>]*?textLength="([\d.]+)"[^>]*?-line-(\d+)\)"[^>]*>(.*?)</text>',
    re.S,
)


def screen_text(app: MmtopApp) -> str:
    """What the terminal shows, as plain text lines, read back from Textual's public
    screenshot (`App.export_screenshot`), which leaves runs of blanks out and places
    each run of text by its x offset."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, length, line, raw in _SVG_TEXT.findall(app.export_screenshot()):
        text = html.unescape(raw).replace("\xa0", " ")
        col = round(float(x) / (float(length) / len(text)))
        row = rows[int(line)]
        for char in text:
            if col < width:
                row[col] = char
            for extra in range(1, cell_len(char)):  # a wide character covers the next cell
                if col + extra < width:
                    row[col + extra] = ""
            col += cell_len(char)
    return "\n".join("".join(row) for row in rows)


async def focus_bars(pilot: Any, holders: list[Widget]) -> None:
    """Tab through a screen whose focus chain is exactly `holders`, in order: the focused one
    has the thick bar down its left edge (a glyph on screen), every other a blank column."""
    app = pilot.app
    assert list(app.screen.focus_chain) == holders
    for holder in holders:
        assert app.focused is holder
        lines = screen_text(app).splitlines()
        for other in holders:
            rows = range(other.content_region.y, other.content_region.bottom)  # under a top rule
            glyphs = {lines[y][other.region.x] for y in rows}
            if other is holder:
                assert other.styles.border_left[0] == "thick" and glyphs == {"█"}, other
            else:
                assert other.styles.border_left[0] == "blank" and glyphs == {" "}, other
        await pilot.press("tab")
    assert app.focused is holders[0]


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    build_store(root)
    return root


@pytest.fixture
def h(wait_for: Any) -> SimpleNamespace:
    """The helpers above, for test modules (conftest cannot be imported by name)."""

    async def loaded(pilot: Any) -> None:
        """Wait for the runs screen's first load to be on screen."""
        await wait_for(
            pilot, lambda: getattr(pilot.app.screen, "loads", 0) >= 1, what="the runs table"
        )
        await pilot.pause()

    return SimpleNamespace(
        NOW=NOW,
        Spec=Spec,
        SPECS=SPECS,
        build_store=build_store,
        fix_meta=fix_meta,
        focus_bars=focus_bars,
        loaded=loaded,
        make_app=make_app,
        names=names,
        run_id=run_id,
        screen_text=screen_text,
        wait_for=wait_for,
        write_run=write_run,
    )
