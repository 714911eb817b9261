"""The Code tab never says "uncommitted changes below" above an empty diff: a dirty run
without a diff says that it was not captured, and why."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group

from mmtop.tui.widgets.code_view import code_summary, diff_view


def text(code: Any, patch: str | None) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(Group(code_summary(code, patch), diff_view(patch, code)))
    return console.export_text()


def git(**extra: Any) -> dict[str, Any]:
    return {"git": {"commit": "abc", "branch": "main", **extra}, "command": ["train.py"]}


def test_dirty_with_a_diff_shows_it_below() -> None:
    out = text(git(dirty=True, patch_bytes=12), "+x = 1\n")
    assert "dirty: uncommitted changes below" in out
    assert "+x = 1" in out


def test_dirty_without_a_diff_says_why() -> None:
    out = text(git(dirty=True, patch_bytes=387456), None)
    assert "below" not in out and "no uncommitted changes" not in out
    assert "dirty: uncommitted changes (diff not captured)" in out
    assert (
        "the diff was not captured: git reported 387456 bytes of changes, but code.patch is "
        "missing from the run folder" in out
    )
    failed = text({**git(dirty=True), "notes": ["git diff timed out after 10 s"]}, None)
    assert "the diff was not captured: git diff timed out after 10 s" in failed
    bare = text(git(dirty=True), None)
    assert "the diff was not captured: the run recorded no code.patch" in bare


def test_clean_and_no_checkout() -> None:
    assert "no uncommitted changes: the checkout was clean" in text(git(dirty=False), None)
    assert "no diff: the run did not record a git checkout" in text({"command": ["t"]}, None)
