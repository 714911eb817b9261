"""Registry tests: real scikit-learn models, real files under tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _cwd_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs capture the git state of the working directory: keep that out of the repo.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MMTOP_DIR", raising=False)


@pytest.fixture(scope="session")
def digits() -> tuple[Any, Any]:
    from sklearn.datasets import load_digits

    data: tuple[Any, Any] = load_digits(return_X_y=True)
    return data


@pytest.fixture(scope="session")
def pipeline(digits: tuple[Any, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = digits
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)).fit(X, y)


RUN_OPTIONS = {"capture_system": False, "capture_code": False}


@pytest.fixture
def run_options() -> dict[str, Any]:
    return dict(RUN_OPTIONS)
