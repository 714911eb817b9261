"""collect_code against real git repositories made in tmp_path."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mmtop.store.capture import collect_code, redact_argv, strip_url_credentials


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No user or system git config, a fixed identity, and no looking above tmp_path.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / "train.py").write_text("lr = 0.1\nepochs = 10\n")
    git(folder, "add", "train.py")
    git(folder, "commit", "-q", "-m", "first")
    return folder


def test_clean_checkout(repo: Path) -> None:
    info, patch = collect_code(repo)
    assert patch is None
    assert info["command"] == sys.argv
    assert info["executable"] == sys.executable
    assert info["cwd"] == str(repo.resolve())
    assert info["git"] == {
        "root": str(repo.resolve()),
        "commit": git(repo, "rev-parse", "HEAD"),
        "branch": "main",
        "remote": None,
        "remote_url": None,
        "dirty": False,
        "untracked": [],
    }
    assert "notes" not in info


def test_a_modified_file_makes_it_dirty_and_is_in_the_patch(repo: Path) -> None:
    (repo / "train.py").write_text("lr = 0.01\nepochs = 10\n")
    info, patch = collect_code(repo)
    assert info["git"]["dirty"] is True
    assert patch is not None
    assert "-lr = 0.1\n+lr = 0.01\n" in patch
    assert patch == git(repo, "diff", "HEAD") + "\n"
    assert info["git"]["patch_bytes"] == len(patch.encode())
    assert info["git"]["patch_sha256"] == hashlib.sha256(patch.encode()).hexdigest()
    assert info["git"]["patch_truncated"] is False


def test_staged_changes_are_in_the_patch(repo: Path) -> None:
    (repo / "model.py").write_text("layers = 4\n")
    git(repo, "add", "model.py")
    info, patch = collect_code(repo)
    assert info["git"]["dirty"] is True
    assert patch is not None
    assert "+++ b/model.py\n@@ -0,0 +1 @@\n+layers = 4\n" in patch


def test_untracked_files_are_listed_not_patched(repo: Path) -> None:
    (repo / "notes.txt").write_text("scratch\n")
    (repo / "data").mkdir()
    (repo / "data" / "a.csv").write_text("x\n")
    info, patch = collect_code(repo)
    assert info["git"]["dirty"] is False
    assert info["git"]["untracked"] == ["data/", "notes.txt"]
    assert patch is None


def test_from_a_subfolder_the_root_is_the_checkout(repo: Path) -> None:
    (repo / "src").mkdir()
    info, _ = collect_code(repo / "src")
    assert info["cwd"] == str((repo / "src").resolve())
    assert info["git"]["root"] == str(repo.resolve())


def test_remote_credentials_are_stripped(repo: Path) -> None:
    git(repo, "remote", "add", "backup", "https://example.org/other.git")
    git(repo, "remote", "add", "origin", "https://alice:ghp_s3cr3t@github.com/org/proj.git")
    info, _ = collect_code(repo)
    assert info["git"]["remote"] == "origin"
    assert info["git"]["remote_url"] == "https://github.com/org/proj.git"
    dumped = json.dumps(info)
    assert "ghp_s3cr3t" not in dumped
    assert "alice" not in dumped


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://user:token@host/x", "https://host/x"),
        ("https://oauth2:glpat-abc@gitlab.com/g/p.git", "https://gitlab.com/g/p.git"),
        ("https://ghp_token@github.com/o/r.git", "https://github.com/o/r.git"),
        (
            "http://u:p@host:8080/r?private_token=abc#frag",
            "http://host:8080/r?private_token=<redacted>#frag",
        ),
        (
            "https://b.s3.amazonaws.com/d.csv?X-Amz-Credential=AK%2F1&X-Amz-Signature=f00&v=2",
            "https://b.s3.amazonaws.com/d.csv?X-Amz-Credential=<redacted>"
            "&X-Amz-Signature=<redacted>&v=2",
        ),
        (
            "https://acct.blob.core.windows.net/c/f?sv=2022&sig=abc%3D",
            "https://acct.blob.core.windows.net/c/f?sv=2022&sig=<redacted>",
        ),
        ("https://host/search?q=tokens&page=2", "https://host/search?q=tokens&page=2"),
        ("ssh://git:pw@host:22/r.git", "ssh://git@host:22/r.git"),
        ("ssh://git@host/r.git", "ssh://git@host/r.git"),
        ("git@github.com:org/proj.git", "git@github.com:org/proj.git"),
        ("https://github.com/org/proj.git", "https://github.com/org/proj.git"),
        ("/srv/git/proj.git", "/srv/git/proj.git"),
    ],
)
def test_strip_url_credentials(url: str, clean: str) -> None:
    assert strip_url_credentials(url) == clean


def test_a_large_patch_is_cut_with_a_note(repo: Path) -> None:
    (repo / "big.txt").write_text("".join(f"line {i:05d}\n" for i in range(2000)))
    git(repo, "add", "big.txt")
    full_info, full = collect_code(repo)
    assert full is not None
    info, patch = collect_code(repo, max_patch_bytes=2000)
    assert patch is not None
    assert info["git"]["patch_truncated"] is True
    assert info["git"]["patch_bytes"] == len(full.encode()) == full_info["git"]["patch_bytes"]
    assert info["git"]["patch_sha256"] == hashlib.sha256(full.encode()).hexdigest()
    assert len(patch.encode()) <= 2000
    assert patch.endswith("\n")
    assert full.startswith(patch)
    assert len(patch.encode()) > 2000 - len("+line 00000\n")  # cut at the last whole line
    assert info["notes"] == [f"patch cut to 2000 of {len(full.encode())} bytes"]


def test_a_folder_outside_git_has_no_git_section(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    info, patch = collect_code(folder)
    assert info["git"] is None
    assert patch is None
    assert "notes" not in info


def test_without_a_git_binary_there_is_no_git_section(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    info, patch = collect_code(repo)
    assert info["git"] is None
    assert patch is None


def test_detached_head_has_no_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    info, _ = collect_code(repo)
    assert info["git"]["branch"] is None
    assert info["git"]["commit"] == git(repo, "rev-parse", "HEAD")


def test_a_repository_without_commits(tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / "a.py").write_text("x = 1\n")
    git(folder, "add", "a.py")
    info, patch = collect_code(folder)
    assert info["git"]["commit"] is None
    assert info["git"]["branch"] == "main"
    assert info["git"]["dirty"] is True
    assert patch is not None
    assert "+x = 1\n" in patch


def test_capture_leaves_no_lock_and_does_not_touch_the_index(repo: Path) -> None:
    (repo / "train.py").write_text("lr = 0.5\n")
    index = repo / ".git" / "index"
    before = index.stat().st_mtime_ns
    collect_code(repo)
    assert index.stat().st_mtime_ns == before
    assert not (repo / ".git" / "index.lock").exists()


def test_secret_options_on_the_command_line_are_hidden(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["train.py", "--lr", "0.1", "--api-key", "sk-live-123", "--hf_token=hf_abc"]
    monkeypatch.setattr(sys, "argv", argv)
    info, _ = collect_code(repo)
    assert info["command"] == [
        "train.py",
        "--lr",
        "0.1",
        "--api-key",
        "<redacted>",
        "--hf_token=<redacted>",
    ]
    dumped = json.dumps(info)
    assert "sk-live-123" not in dumped
    assert "hf_abc" not in dumped


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["--password", "hunter2", "--epochs", "3"], ["--password", "<redacted>", "--epochs", "3"]),
        (["--password", "--verbose"], ["--password", "--verbose"]),
        (["wandb.api_key=abc", "model.layers=4"], ["wandb.api_key=<redacted>", "model.layers=4"]),
        (
            ["--max_tokens", "512", "--tokenizer", "gpt2"],
            ["--max_tokens", "512", "--tokenizer", "gpt2"],
        ),
        (["--data=https://u:p@host/d.csv"], ["--data=https://host/d.csv"]),
        (["https://tok@host/repo.git"], ["https://host/repo.git"]),
        (["token"], ["token"]),
    ],
)
def test_redact_argv(argv: list[str], shown: list[str]) -> None:
    assert redact_argv(argv) == shown
