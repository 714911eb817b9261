"""The app's side of `mmtop reproduce`: the Overview shows the `reproduces` edge, and `R` on a
run shows what a rebuild would use and copies the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.tui.screens.detail import RunDetailScreen
from mmtop.tui.screens.reproduce import ReproduceScreen


def _logged_in_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, str, str]:
    repo, root = tmp_path / "repo", tmp_path / "store"
    repo.mkdir()
    for args in (["init", "-q"], ["config", "user.email", "d@e.x"], ["config", "user.name", "d"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True)
    (repo / "train.py").write_text("print(1)\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "x"], check=True)
    (repo / "train.py").write_text("print(2)\n", encoding="utf-8")
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    monkeypatch.chdir(repo)
    monkeypatch.setattr(sys, "argv", ["train.py", "--epochs", "3"])
    with store.Run("digits", root=root, capture_system=False) as original:
        original.log({"acc": 0.5})
    monkeypatch.setenv("MMTOP_REPRODUCES", original.run_id)
    with store.Run("digits", root=root, capture_system=False, capture_env=False) as rebuilt:
        rebuilt.log({"acc": 0.5})
    monkeypatch.delenv("MMTOP_REPRODUCES")
    return root, original.run_id, rebuilt.run_id, commit


async def test_overview_shows_reproduces_and_r_shows_the_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, h: Any
) -> None:
    root, original, rebuilt, commit = _logged_in_repo(tmp_path, monkeypatch)
    app = h.make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        await h.loaded(pilot)
        app.push_screen(RunDetailScreen(rebuilt))
        screen = app.screen
        await h.wait_for(pilot, lambda: screen.loads >= 1)
        await pilot.pause()
        assert f"reproduces  {original}" in h.screen_text(app)
        app.pop_screen()
        app.push_screen(RunDetailScreen(original))
        screen = app.screen
        await h.wait_for(pilot, lambda: screen.loads >= 1)
        await pilot.press("R")
        await h.wait_for(pilot, lambda: isinstance(app.screen, ReproduceScreen))
        await pilot.pause()
        text = h.screen_text(app)
        assert f"commit      {commit} on" in text
        assert "patch       " in text and "bytes" in text
        assert "(in .) python train.py --epochs 3" in text
        assert app.clipboard == f"mmtop reproduce {original} --root {root}"
        await pilot.press("escape")
        assert app.screen is screen
