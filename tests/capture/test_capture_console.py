"""ConsoleCapture tees into console.log; read_console renders it like a terminal."""

from __future__ import annotations

import copy
import io
import os
import sys
import threading
from pathlib import Path
from typing import cast

import pytest

from mmtop.store.capture import ConsoleCapture, read_console
from mmtop.store.capture.console import render_line


def terminal(monkeypatch: pytest.MonkeyPatch) -> tuple[io.StringIO, io.StringIO]:
    """Plain in-memory stdout/stderr standing in for the terminal. Called from the test body:
    pytest re-installs its own capture streams between fixture setup and the test call."""
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    return out, err


def test_text_reaches_both_the_log_and_the_original_streams(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, err = terminal(monkeypatch)
    log = tmp_path / "run" / "console.log"
    capture = ConsoleCapture(log)
    capture.start()
    print("epoch 1 loss 0.5")
    print("warning: lr high", file=sys.stderr)
    sys.stdout.writelines(["a\n", "b\n"])
    capture.stop()
    assert out.getvalue() == "epoch 1 loss 0.5\na\nb\n"
    assert err.getvalue() == "warning: lr high\n"
    assert log.read_text() == "epoch 1 loss 0.5\nwarning: lr high\na\nb\n"
    assert sys.stdout is out and sys.stderr is err
    print("after stop")
    assert log.read_text().endswith("a\nb\n")
    assert out.getvalue().endswith("after stop\n")
    assert capture.last_error is None


def test_the_log_is_appended_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal(monkeypatch)
    log = tmp_path / "console.log"
    log.write_text("from the first attempt\n")
    with ConsoleCapture(log):
        print("resumed")
    assert log.read_text() == "from the first attempt\nresumed\n"


def test_the_tee_looks_like_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = terminal(monkeypatch)
    with ConsoleCapture(tmp_path / "console.log"):
        assert sys.stdout.isatty() is False
        assert cast(io.StringIO, sys.stdout).getvalue() == ""
        assert sys.stdout.closed is False
        with pytest.raises(TypeError):
            sys.stdout.write(b"bytes")  # type: ignore[arg-type]
        print("still logging")
    assert (tmp_path / "console.log").read_text() == "still logging\n"
    assert out.getvalue() == "still logging\n"


def test_a_wrapper_installed_later_is_left_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = terminal(monkeypatch)
    capture = ConsoleCapture(tmp_path / "console.log")
    capture.start()
    ours = sys.stdout
    later = io.StringIO()
    sys.stdout = later
    capture.stop()
    assert sys.stdout is later  # not clobbered with the original
    ours.write("through the old tee\n")  # a stale reference passes through, unlogged
    assert out.getvalue() == "through the old tee\n"
    assert (tmp_path / "console.log").read_text() == ""


def test_writes_from_many_threads_stay_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal(monkeypatch)
    log = tmp_path / "console.log"

    def chatter(worker: int) -> None:
        for i in range(300):
            sys.stdout.write(f"worker {worker} line {i:03d}\n")

    with ConsoleCapture(log):
        threads = [threading.Thread(target=chatter, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    lines = log.read_text().splitlines()
    assert sorted(lines) == sorted(f"worker {w} line {i:03d}" for w in range(4) for i in range(300))


def test_an_unwritable_log_never_reaches_user_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = terminal(monkeypatch)
    (tmp_path / "a-file").write_text("")
    capture = ConsoleCapture(tmp_path / "a-file" / "console.log")  # parent is not a folder
    capture.start()
    print("training goes on")
    capture.stop()
    assert out.getvalue() == "training goes on\n"
    assert capture.last_error is not None


def test_a_log_failing_mid_run_never_reaches_user_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = terminal(monkeypatch)
    capture = ConsoleCapture(tmp_path / "console.log")
    capture.start()
    print("before")
    # The file vanishing from under us (a full or unmounted disk looks the same to Python).
    capture._log._file.close()  # type: ignore[union-attr]
    print("after")
    capture.stop()
    assert out.getvalue() == "before\nafter\n"
    assert capture.last_error == "ValueError: write to closed file"


def test_progress_bars_are_stored_raw_and_rendered_collapsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal(monkeypatch)
    log = tmp_path / "console.log"
    with ConsoleCapture(log):
        print("start")
        for pct in (0, 25, 50, 75, 100):
            sys.stderr.write(f"\rtrain {pct:3d}%|{'#' * (pct // 25):<4}|")
        sys.stderr.write("\n")
        print("done")
    raw = log.read_bytes().decode()
    assert raw.count("\r") == 5
    assert read_console(log) == ["start", "train 100%|####|", "done"]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain", "plain"),
        ("\r 10%\r 50%\r100%", "100%"),
        ("loss 10.5\rloss 9", "loss 90.5"),  # a shorter rewrite leaves the tail, as on screen
        ("windows line\r", "windows line"),
        ("abc\b\bX", "aXc"),
        ("\x1b[31mred\x1b[0m and \x1b[1mbold\x1b[22m", "red and bold"),
        ("\x1b]0;title\x07text", "text"),
        ("bell\x07 and nul\x00", "bell and nul"),
        ("tab\tkept", "tab\tkept"),
    ],
)
def test_render_line(raw: str, shown: str) -> None:
    assert render_line(raw) == shown


def test_tail_lines(tmp_path: Path) -> None:
    log = tmp_path / "console.log"
    log.write_text("".join(f"line {i}\n" for i in range(10_000)) + "partial\rbar")
    assert read_console(log, tail_lines=3) == ["line 9998", "line 9999", "bartial"]
    assert read_console(log, tail_lines=0) == []
    assert len(read_console(log)) == 10_001
    assert read_console(tmp_path / "missing.log") == []


def test_rotation_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal(monkeypatch)
    log = tmp_path / "console.log"
    with ConsoleCapture(log, max_bytes=100, backups=1):
        for i in range(25):
            print(f"line {i:04d}")  # 10 bytes a line: 10 lines fill a file
    backup = tmp_path / "console.log.1"
    assert backup.read_text() == "".join(f"line {i:04d}\n" for i in range(10, 20))
    assert log.read_text() == "".join(f"line {i:04d}\n" for i in range(20, 25))
    assert not (tmp_path / "console.log.2").exists()
    assert read_console(log) == [f"line {i:04d}" for i in range(10, 25)]
    assert read_console(log, tail_lines=7) == [f"line {i:04d}" for i in range(18, 25)]
    assert read_console(log, include_rotated=False) == [f"line {i:04d}" for i in range(20, 25)]


def test_rotation_keeps_the_asked_number_of_backups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal(monkeypatch)
    log = tmp_path / "console.log"
    with ConsoleCapture(log, max_bytes=100, backups=2):
        for i in range(35):
            print(f"line {i:04d}")
    assert (tmp_path / "console.log.2").read_text().startswith("line 0010\n")
    assert (tmp_path / "console.log.1").read_text().startswith("line 0020\n")
    assert log.read_text() == "".join(f"line {i:04d}\n" for i in range(30, 35))


def test_without_backups_the_log_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal(monkeypatch)
    log = tmp_path / "console.log"
    with ConsoleCapture(log, max_bytes=100, backups=0):
        for i in range(15):
            print(f"line {i:04d}")
    assert log.read_text() == "".join(f"line {i:04d}\n" for i in range(10, 15))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["console.log"]


def test_a_write_larger_than_the_cap_is_split_on_character_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal(monkeypatch)
    log = tmp_path / "console.log"
    text = "é" * 120  # 240 bytes of two-byte characters
    with ConsoleCapture(log, max_bytes=101, backups=3):
        sys.stdout.write(text)
    parts = [tmp_path / f"console.log.{i}" for i in (2, 1)] + [log]
    assert [p.stat().st_size for p in parts] == [100, 100, 40]
    assert "".join(p.read_text() for p in parts) == text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_does_not_write_the_parents_text_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal(monkeypatch)
    log = tmp_path / "console.log"
    with ConsoleCapture(log):
        sys.stdout.write("epoch 1 ")  # no line end yet: still in the log's buffer
        pid = os.fork()
        if pid == 0:  # a DataLoader-style worker
            try:
                sys.stdout.write("worker up\n")
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        sys.stdout.write("done\n")
    assert log.read_text() == "epoch 1 worker up\ndone\n"


def test_a_copy_of_the_tee_does_not_recurse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = terminal(monkeypatch)
    with ConsoleCapture(tmp_path / "console.log"):
        clone = copy.copy(sys.stdout)
        clone.write("via a copy\n")
    assert out.getvalue() == "via a copy\n"
