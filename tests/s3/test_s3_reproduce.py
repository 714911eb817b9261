"""`mmtop reproduce` on a store on object storage: the rebuilt script logs its run to the
same s3:// store, not to a folder named after the URL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mmtop import store
from mmtop.tui.cli import main

TINY = """\
from mmtop import store

with store.Run("tiny", capture_system=False) as run:
    run.log({"x": 1.0})
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_reproduce_on_an_s3_store_writes_a_script_that_logs_back_to_it(
    s3_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MMTOP_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MMTOP_DIR", raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "dev@example.com")
    _git(repo, "config", "user.name", "dev")
    (repo / "tiny.py").write_text(TINY, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")
    monkeypatch.chdir(repo)
    monkeypatch.setattr(sys, "argv", ["tiny.py", "--seed", "3"])
    with store.Run("tiny", root=s3_url, capture_system=False) as run:
        run.log({"x": 1.0})
    capfd.readouterr()

    out = tmp_path / "rebuild"
    code = main(
        ["reproduce", run.run_id, "-o", str(out), "--python", sys.executable,
         "--reuse-packages", "--root", s3_url]
    )  # fmt: skip
    _, err = capfd.readouterr()
    assert code == 0, err
    script = (out / "reproduce.sh").read_text(encoding="utf-8")
    assert f"MMTOP_DIR={s3_url} " in script
    assert "tiny.py --seed 3" in script
