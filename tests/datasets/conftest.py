"""Dataset registry tests: scikit-learn's digits, real files and real processes in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _cwd_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs capture the git state of the working directory: keep that out of the repo.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MMTOP_DIR", raising=False)


@pytest.fixture(scope="session")
def digits_frame() -> pd.DataFrame:
    """scikit-learn's digits with an `id` key column first: 1,797 rows, 66 columns."""
    from sklearn.datasets import load_digits

    frame = load_digits(as_frame=True).frame
    frame.insert(0, "id", range(len(frame)))
    return frame
