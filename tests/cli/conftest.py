"""Fixtures of the command-line tests: a sample store built with store.Run, and a runner.

With `--import-mode=importlib` test modules cannot import a helper module by name, so the
helpers are handed out as fixtures.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.tui.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]

# Values chosen to break lossy float formatting: shortest repr, subnormals, extremes.
TRICKY = [1 / 3, 0.1 + 0.2, 1e-300, 5e-324, 1.7976931348623157e308, -0.5, 123456789.123456789]
HOSTILE_NAME = '=HYPERLINK("http://evil.example","click")'


@dataclass
class Result:
    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode("utf-8")


@dataclass
class Sample:
    """The sample store: its root and the run ids by run name."""

    root: Path
    ids: dict[str, str]


def build_sample(root: Path) -> Sample:
    ids: dict[str, str] = {}
    for i, lr in enumerate([0.1, 0.01, 0.001]):
        params = {
            "lr": lr,
            "seed": 7,
            "model": {"kind": "sgd", "depth": 2 + i},
            "note": 'a,b"c\nd' if i == 0 else "plain",
        }
        with store.Run(
            experiment="digits", name=f"sgd-{lr}", params=params, tags=["baseline"], root=root
        ) as run:
            for step in range(5):
                run.log({"train/loss": 1.0 / (step + 1 + i), "val/acc": 0.5 + 0.1 * step * lr})
            run.log({"tricky": TRICKY[i]}, step=0)
            run.summary["test/acc"] = 0.9 + i / 100
        ids[run.name] = run.run_id
    hostile = {
        "markup": "[bold red]boom[/]",
        "escape": "\x1b[31mred\x1b[0m\x07",
        "negative_text": "-0.5",
        "formula": "@SUM(A1:A2)",
        "pipe": "a|b",
    }
    with store.Run(experiment="mnist", name=HOSTILE_NAME, params=hostile, root=root) as run:
        run.log({"val/loss": -0.5, "weird": math.nan}, step=0)
        run.log({"val/loss": math.inf, "weird": -math.inf}, step=1)
        for value in TRICKY:
            run.log({"tricky": value})
    ids["hostile"] = run.run_id
    return Sample(root, ids)


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """A read-only sample store shared by the tests that only read."""
    return build_sample(tmp_path_factory.mktemp("sample") / "mmruns")


@pytest.fixture
def fresh(tmp_path: Path) -> Sample:
    """A sample store of the test's own, for tests that change files."""
    return build_sample(tmp_path / "mmruns")


@pytest.fixture
def cli(capsysbinary: pytest.CaptureFixture[bytes]) -> Callable[..., Result]:
    """Run `mmtop ARGS...` in process; stdout as bytes, stderr as text."""

    def run(*args: str | os.PathLike[str]) -> Result:
        code = main([str(a) for a in args])
        out, err = capsysbinary.readouterr()
        return Result(code, out, err.decode("utf-8"))

    return run


def _child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MMTOP_DIR", None)
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


@pytest.fixture
def run_process() -> Callable[..., subprocess.CompletedProcess[bytes]]:
    """Run the real entry point (`python -m mmtop.tui.cli ARGS`) in a fresh process."""

    def run(*args: str | os.PathLike[str], **env: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "mmtop.tui.cli", *map(str, args)],
            cwd=REPO_ROOT,
            env=_child_env(**env),
            capture_output=True,
            timeout=60,
        )

    return run


@pytest.fixture(name="child_env")
def child_env_fixture() -> Callable[..., dict[str, str]]:
    """Environment for a child process: no MMTOP_DIR or NO_COLOR."""
    return _child_env


@pytest.fixture
def python() -> Callable[..., subprocess.CompletedProcess[bytes]]:
    """Run `python -c CODE` in a fresh process."""

    def run(code: str, **env: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO_ROOT,
            env=_child_env(**env),
            capture_output=True,
            timeout=60,
        )

    return run


@pytest.fixture
def write_json() -> Callable[[Path, Any], None]:
    def write(path: Path, doc: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc), encoding="utf-8")

    return write
