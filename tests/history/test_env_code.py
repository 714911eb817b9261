"""The environment and the code a run ran with, captured by `store.Run` and read back.

Secrets must never reach the store; git capture is checked in a throw-away repository by a
child process whose working directory is that repository.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mmtop import store

SECRET = "supersecretvalue"

LOG_ONE_RUN = """
import sys
from mmtop import store
with store.Run(experiment="code", root=sys.argv[1], capture_system=False) as run:
    print(run.run_id, flush=True)
"""


def files_holding(folder: Path, needle: bytes) -> list[str]:
    return [str(p) for p in sorted(folder.rglob("*")) if p.is_file() and needle in p.read_bytes()]


def finished_run(proc: subprocess.Popen[str], root: Path) -> store.RunInfo:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return store.open(root).run(out.strip())


# ----------------------------------------------------------------------------- env
def test_env_json_reads_back(new_run: Any, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    with new_run(capture_env=True) as run:
        pass
    info = store.open(root).run(run.run_id)
    env = info.env
    assert env is not None
    assert env == json.loads((run.path / "env.json").read_text())
    assert env["python"]["version"] == platform.python_version()
    assert env["python"]["executable"] == sys.executable
    assert env["packages"]["polars"] == importlib.metadata.version("polars")
    assert env["env_vars"]["SLURM_JOB_ID"] == "4242"
    assert env["cpu"]["logical"] >= 1
    assert env["memory_total_bytes"] > 0
    assert isinstance(env["gpus"], list)  # no GPU here is not an error


def test_no_environment_secret_reaches_the_store(
    new_run: Any, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("WANDB_API_KEY", SECRET)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    # An allow-listed variable holding a URL with credentials: kept, credentials stripped.
    monkeypatch.setenv("MASTER_ADDR", f"https://bob:{SECRET}@trainer.example:29500")
    with new_run(capture_env=True, capture_code=True) as run:
        run.log({"loss": 1.0})
    env = store.open(root).run(run.run_id).env
    assert env is not None
    assert env["env_vars"]["MASTER_ADDR"] == "https://trainer.example:29500"
    assert "AWS_SECRET_ACCESS_KEY" not in json.dumps(env)
    assert files_holding(root, SECRET.encode()) == []


def test_no_secret_from_a_child_process_env_or_command_line(spawn: Any, root: Path) -> None:
    proc = spawn(
        LOG_ONE_RUN + "    print(run.path, flush=True)\n",
        str(root),
        "--api-key",
        SECRET,
        f"--db-password={SECRET}",
        env={"AWS_SECRET_ACCESS_KEY": SECRET},
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    run_id = out.split()[0]
    info = store.open(root).run(run_id)
    assert info.env is not None and info.code is not None
    assert info.command[-3:] == ["--api-key", "<redacted>", "--db-password=<redacted>"]
    assert files_holding(root, SECRET.encode()) == []


def test_capture_env_off_writes_no_env_json(new_run: Any, root: Path) -> None:
    with new_run(capture_env=False) as run:
        pass
    assert not (run.path / "env.json").exists()
    assert store.open(root).run(run.run_id).env is None


# ----------------------------------------------------------------------------- code
@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit on branch `trunk` and a remote holding a token."""
    if shutil.which("git") is None:
        pytest.skip("no git binary")
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "trunk")
    (folder / "model.py").write_text("lr = 0.1\nlayers = 3\n")
    git(folder, "add", "model.py")
    git(folder, "commit", "-q", "-m", "first")
    git(folder, "remote", "add", "origin", f"https://alice:{SECRET}@git.example/team/model.git")
    return folder


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(folder), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def test_clean_checkout(spawn: Any, root: Path, repo: Path) -> None:
    info = finished_run(spawn(LOG_ONE_RUN, str(root), cwd=repo), root)
    code = info.code
    assert code is not None
    assert code["cwd"] == str(repo.resolve())
    assert code["git"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert code["git"]["branch"] == "trunk"
    assert code["git"]["root"] == str(repo.resolve())
    assert code["git"]["dirty"] is False
    assert code["git"]["remote"] == "origin"
    assert code["git"]["remote_url"] == "https://git.example/team/model.git"
    assert info.patch is None
    assert not (info.path / "code.patch").exists()
    assert files_holding(root, SECRET.encode()) == []


def test_modified_checkout_records_the_diff(spawn: Any, root: Path, repo: Path) -> None:
    (repo / "model.py").write_text("lr = 0.05\nlayers = 3\n")
    info = finished_run(spawn(LOG_ONE_RUN, str(root), cwd=repo), root)
    code = info.code
    assert code is not None
    assert code["git"]["dirty"] is True
    assert code["git"]["patch_truncated"] is False
    patch = info.patch
    assert patch is not None
    assert "-lr = 0.1\n+lr = 0.05\n" in patch
    assert patch == git(repo, "diff", "HEAD") + "\n"
    raw = (info.path / "code.patch").read_bytes()
    assert code["git"]["patch_bytes"] == len(raw)
    assert code["git"]["patch_sha256"] == hashlib.sha256(raw).hexdigest()
    assert (repo / "model.py").read_text() == "lr = 0.05\nlayers = 3\n"  # repo untouched
    assert git(repo, "status", "--porcelain") == "M model.py"


def test_untracked_files_are_listed_not_dirty(spawn: Any, root: Path, repo: Path) -> None:
    (repo / "scratch.txt").write_text("notes")
    info = finished_run(spawn(LOG_ONE_RUN, str(root), cwd=repo), root)
    assert info.code is not None
    assert info.code["git"]["dirty"] is False
    assert info.code["git"]["untracked"] == ["scratch.txt"]
    assert info.patch is None


def test_outside_a_checkout_git_is_null(spawn: Any, root: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = spawn(LOG_ONE_RUN, str(root), cwd=plain, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    info = finished_run(proc, root)
    assert info.status == "finished"
    assert info.code is not None
    assert info.code["git"] is None
    assert info.code["cwd"] == str(plain.resolve())
    assert "notes" not in info.code  # "not a checkout" is normal, not something to report
    assert info.patch is None


def test_capture_code_off_writes_no_code_files(new_run: Any, root: Path) -> None:
    with new_run(capture_code=False) as run:
        pass
    assert not (run.path / "code.json").exists()
    assert store.open(root).run(run.run_id).code is None
