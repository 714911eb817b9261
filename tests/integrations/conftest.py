"""Integration tests run the examples of docs/INTEGRATIONS.md as they are written there, in a
temporary folder whose store is $MMTOP_DIR."""

from __future__ import annotations

import os
import re
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "INTEGRATIONS.md"
_SNIPPET = re.compile(r"<!-- snippet: (?P<name>[\w-]+) -->\n```python\n(?P<code>.*?)\n```", re.S)

RunSnippet = Callable[[str], dict[str, Any]]


def snippet_code(name: str) -> str:
    found = {m["name"]: m["code"] for m in _SNIPPET.finditer(DOC.read_text(encoding="utf-8"))}
    if name not in found:
        raise LookupError(f"docs/INTEGRATIONS.md has no snippet {name!r}; it has {sorted(found)}")
    return found[name] + "\n"


@pytest.fixture(autouse=True)
def _store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MMTOP_DIR", str(tmp_path / "mmruns"))
    monkeypatch.delenv("MMTOP_POLLING", raising=False)
    # The Keras example sets the backend it was written for; undone after each test.
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
    return tmp_path / "mmruns"


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "mmruns"


@pytest.fixture
def snippet() -> Callable[[str], str]:
    """The code of the example `name` in docs/INTEGRATIONS.md."""
    return snippet_code


@pytest.fixture
def run_snippet(tmp_path: Path) -> RunSnippet:
    """Run the example `name` as a script (its own globals, `__name__ == "__main__"`)."""

    def run(name: str) -> dict[str, Any]:
        script = tmp_path / f"{name}.py"
        script.write_text(snippet_code(name), encoding="utf-8")
        return runpy.run_path(str(script), run_name="__main__")

    return run
