"""Store tests run in their own temporary folder; shared fixtures are in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _cwd_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs capture the git state of the working directory: keep that out of the repo (and
    # cheap), and keep a stray default root (./mmruns) out of it too.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MMTOP_DIR", raising=False)
    monkeypatch.delenv("MMTOP_POLLING", raising=False)
