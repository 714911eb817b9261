"""Fixtures of the model-history tests (shared ones are in tests/conftest.py).

With `--import-mode=importlib` test modules cannot import a helper module by name, so the
helpers are handed out as fixtures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import pytest


class NewRun(Protocol):
    def __call__(self, **kwargs: Any) -> Any: ...


@pytest.fixture
def new_run(root: Path) -> NewRun:
    """`store.Run` under `root` with the automatic captures off unless asked for: fast runs."""
    from mmtop import store

    def make(**kwargs: Any) -> store.Run:
        kwargs.setdefault("experiment", "history")
        for capture in ("capture_env", "capture_code", "capture_system"):
            kwargs.setdefault(capture, False)
        return store.Run(root=root, **kwargs)

    return make
