"""What people add to a run, possibly from other processes while it is live: notes, comments,
tags; the read-only store; and untrusted text kept verbatim."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mmtop import store
from mmtop.store.ids import hostname, username

LIVE_WRITER = r"""
import pathlib, sys, time
from mmtop import store
stop = pathlib.Path(sys.argv[2])
with store.Run(experiment="live", name="writer", tags=["baseline"], root=sys.argv[1],
               flush_every=0.05, capture_env=False, capture_code=False,
               capture_system=False) as run:
    print(run.run_id, flush=True)
    step = 0
    while not stop.exists():
        run.log({"loss": 1.0 / (step + 1)}, step=step)
        step += 1
        time.sleep(0.002)  # pace the child's loop, not a wait of the test
    run.note(f"stopped at step {step}")
"""

# Each child waits for the go file so that all four really write at the same time.
COMMENTER = r"""
import pathlib, sys, time
from mmtop import store
root, run_id, who, go = sys.argv[1:5]
s = store.open(root)
print("ready", flush=True)
while not pathlib.Path(go).exists():
    time.sleep(0.005)
for i in range(25):
    s.comment(run_id, f"{who}-{i}", author=who)
s.add_tags(run_id, [who])
"""

NOTE_HEADING = r"\n## \d{4}-\d\d-\d\d \d\d:\d\d UTC\n\n"


# ----------------------------------------------------------------------------- notes
def test_notes_append_in_order(new_run: Any, root: Path) -> None:
    with new_run() as run:
        run.note("val loss diverged at epoch 4")
        run.note("fixed: lowered lr to 1e-3\nand added warmup\n")
    notes = store.open(root).run(run.run_id).notes
    pattern = (
        NOTE_HEADING
        + "val loss diverged at epoch 4\n"
        + NOTE_HEADING
        + "fixed: lowered lr to 1e-3\nand added warmup\n"
    )
    assert re.fullmatch(pattern, notes), notes


def test_bad_notes_are_refused(new_run: Any, root: Path) -> None:
    with new_run() as run:
        with pytest.raises(ValueError, match="note must not be empty"):
            run.note("  \n")
        with pytest.raises(TypeError, match="note must be a string"):
            run.note(3)
    assert store.open(root).run(run.run_id).notes == ""


# ----------------------------------------------------------------------------- live runs
def test_comment_and_tags_while_the_writer_is_live(
    spawn: Any, root: Path, tmp_path: Path, wait_until: Any
) -> None:
    stop = tmp_path / "stop"
    proc = spawn(LIVE_WRITER, str(root), str(stop))
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read()
    s = store.open(root)
    wait_until(lambda: s.history(run_id).height >= 5, what="the writer's first points")

    first = s.comment(run_id, "val loss plateaus after epoch 3", author="reviewer")
    second = s.comment(run_id, "[bold]ok[/bold] to promote")
    assert first["author"] == "reviewer"
    assert second["author"] == f"{username()}@{hostname()}"
    assert s.add_tags(run_id, ["keep", "gone"]) == ["baseline", "keep", "gone"]
    assert s.remove_tags(run_id, ["baseline", "gone", "never-there"]) == ["keep"]

    info = s.run(run_id)
    assert info.status == "running"
    assert info.comments == [first, second]
    assert info.tags == ["keep"]
    seen = s.history(run_id).height
    wait_until(lambda: s.history(run_id).height > seen, what="the writer logging on")

    stop.touch()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert err == ""
    meta = json.loads((info.path / "run.json").read_text())  # whole, valid JSON
    assert meta["status"] == "finished"
    assert meta["tags"] == ["keep"]  # the final status update kept the tags
    done = store.open(root).run(run_id)
    assert done.status == "finished"
    assert done.comments == [first, second]
    assert re.fullmatch(NOTE_HEADING + r"stopped at step \d+\n", done.notes)
    assert store.open(root).runs()["tags"].to_list() == [["keep"]]


def test_comments_and_tags_from_four_processes_at_once(
    new_run: Any, spawn: Any, root: Path, tmp_path: Path
) -> None:
    with new_run(tags=["baseline"]) as run:
        pass
    go = tmp_path / "go"
    who = [f"p{i}" for i in range(4)]
    procs = [spawn(COMMENTER, str(root), run.run_id, w, str(go)) for w in who]
    for proc in procs:
        assert proc.stdout.readline() == "ready\n", proc.stderr.read()
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    info = store.open(root).run(run.run_id)
    comments = info.comments
    assert len(comments) == 100
    for w in who:
        assert [c["text"] for c in comments if c["author"] == w] == [f"{w}-{i}" for i in range(25)]
    lines = (run.path / "comments.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 101  # one whole line per comment
    assert info.tags[0] == "baseline"
    assert sorted(info.tags) == sorted(["baseline", *who])


def test_comment_on_unknown_run_or_bad_text(new_run: Any, root: Path) -> None:
    with new_run() as run:
        pass
    s = store.open(root)
    with pytest.raises(store.RunNotFoundError):
        s.comment("nope", "text")
    with pytest.raises(ValueError, match="comment must not be empty"):
        s.comment(run.run_id, "")
    with pytest.raises(ValueError, match="author contains a control character"):
        s.comment(run.run_id, "text", author="\x1b[2J")
    with pytest.raises(ValueError, match="tag contains a control character"):
        s.add_tags(run.run_id, ["bad\nline"])
    assert s.run(run.run_id).comments == []
    assert s.run(run.run_id).tags == []


def test_tags_given_as_one_string(new_run: Any, root: Path) -> None:
    with new_run() as run:
        pass
    s = store.open(root)
    assert s.add_tags(run.run_id, "best model") == ["best model"]  # one tag, not characters
    assert s.remove_tags(run.run_id, "best model") == []


# ----------------------------------------------------------------------------- read-only
# Run by an unprivileged user (tests/conftest.py): permission bits do not stop root.
ANNOTATE = """
import json, sys
from mmtop import store
root, run_id = sys.argv[1], sys.argv[2]
s = store.open(root)
out = {"read_only": s.read_only, "ids": s.runs()["run_id"].to_list(), "refused": {}}
for name, call in (
    ("comment", lambda: s.comment(run_id, "hello")),
    ("add_tags", lambda: s.add_tags(run_id, ["x"])),
    ("remove_tags", lambda: s.remove_tags(run_id, ["t"])),
):
    try:
        call()
        out["refused"][name] = None
    except store.ReadOnlyStoreError as exc:
        out["refused"][name] = str(exc)
info = s.run(run_id)
out.update(tags=info.tags, comments=info.comments, notes=info.notes)
print(json.dumps(out))
"""


def test_read_only_store_refuses_annotations(unprivileged: Any) -> None:
    root = unprivileged.dir / "mmruns"
    with store.Run(
        experiment="history",
        tags=["t"],
        root=root,
        capture_env=False,
        capture_code=False,
        capture_system=False,
    ) as run:
        run.note("a note")
    for folder in (root, run.path.parent, run.path):
        folder.chmod(0o555)
    out = unprivileged.run(ANNOTATE, str(root), run.run_id)
    assert out["read_only"] is True
    assert out["ids"] == [run.run_id]  # browsing still works
    for name, error in out["refused"].items():
        assert error is not None and "read-only" in error, name
    assert (out["tags"], out["comments"]) == (["t"], [])
    assert "a note" in out["notes"]


def test_read_only_run_folder_refuses_notes_and_comments(unprivileged: Any) -> None:
    root = unprivileged.dir / "mmruns"
    with store.Run(
        experiment="history", root=root, capture_env=False, capture_code=False, capture_system=False
    ) as run:
        pass
    run.path.chmod(0o555)  # only the run's folder: the store itself stays writable
    out = unprivileged.run(ANNOTATE, str(root), run.run_id)
    assert out["read_only"] is False
    for name, error in out["refused"].items():
        assert error is not None and "read-only" in error, name
    assert out["comments"] == []
    run.path.chmod(0o755)
    assert store.open(root).run(run.run_id).comments == []


# ----------------------------------------------------------------------------- untrusted text
MARKUP = "[red]x[/red] [link=file:///etc/passwd]y[/link]"
HOSTILE = "[red]x[/red]\x1b[2J"


def test_markup_in_names_params_and_tags_is_stored_verbatim(new_run: Any, root: Path) -> None:
    with new_run(experiment="[b]exp", name=MARKUP, tags=[MARKUP], params={"p": HOSTILE}) as run:
        pass
    s = store.open(root)
    row = s.runs().row(0, named=True)
    assert (row["experiment"], row["name"], row["tags"]) == ("[b]exp", MARKUP, [MARKUP])
    assert row["params"] == {"p": HOSTILE}
    info = s.run(f"[b]exp/{MARKUP}")
    assert (info.run_id, info.name, info.params) == (run.run_id, MARKUP, {"p": HOSTILE})


def test_escape_sequences_round_trip_verbatim(new_run: Any, root: Path) -> None:
    """The writer refuses control characters in run names, but a run.json written by another
    tool (an importer, an older writer, a hand edit) may hold them: the reader returns them as
    they are, and so it does for notes and comments, which may hold any text."""
    with new_run(name="placeholder") as run:
        run.note(HOSTILE)
    meta_path = run.path / "run.json"
    meta = json.loads(meta_path.read_text())
    meta["name"] = HOSTILE
    meta_path.write_text(json.dumps(meta))
    s = store.open(root)
    s.comment(run.run_id, HOSTILE)
    assert s.runs()["name"].to_list() == [HOSTILE]
    info = s.run(run.run_id)
    assert info.name == HOSTILE
    assert info.comments[0]["text"] == HOSTILE
    assert info.notes.endswith("\n" + HOSTILE + "\n")


def test_run_names_with_control_characters_are_refused_by_the_writer(root: Path) -> None:
    with pytest.raises(ValueError, match="run name contains a control character"):
        store.Run(name=HOSTILE, root=root, capture_env=False, capture_code=False)
