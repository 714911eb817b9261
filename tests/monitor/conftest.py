"""Monitoring tests: a real scikit-learn model on make_classification data, real files."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from mmtop.tui.cli import main

FEATURES = [f"f{i}" for i in range(6)]


@pytest.fixture(autouse=True)
def _cwd_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs capture the git state of the working directory: keep that out of the repo.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MMTOP_DIR", raising=False)


@dataclass
class Data:
    """make_classification rows as frames: train, validation, and a pool to serve from."""

    x_train: pl.DataFrame
    y_train: np.ndarray[Any, Any]
    x_val: pl.DataFrame
    y_val: np.ndarray[Any, Any]
    x_pool: pl.DataFrame
    y_pool: np.ndarray[Any, Any]
    model: Any


@pytest.fixture(scope="session")
def data() -> Data:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(
        n_samples=20_000,
        n_features=len(FEATURES),
        n_informative=4,
        n_redundant=0,
        shuffle=False,  # the informative features stay f0..f3
        random_state=0,
    )
    order = np.random.default_rng(0).permutation(len(y))  # rows come sorted by class
    x, y = x[order], y[order]
    frame = pl.DataFrame(x, schema=FEATURES)
    model = LogisticRegression(max_iter=500).fit(x[:5000], y[:5000])
    return Data(
        frame[:5000], y[:5000], frame[5000:8000], y[5000:8000], frame[8000:], y[8000:], model
    )


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsysbinary: pytest.CaptureFixture[bytes]) -> Callable[..., Result]:
    """Run `mmtop ARGS...` in process."""

    def run(*args: str | os.PathLike[str]) -> Result:
        code = main([str(a) for a in args])
        out, err = capsysbinary.readouterr()
        return Result(code, out.decode(), err.decode())

    return run
