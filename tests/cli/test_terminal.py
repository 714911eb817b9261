"""Output on a real terminal (a pty): Rich table with colour, none with NO_COLOR; inert text."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# SGR parameters that set a colour: 30-37, 38;..., 39, 40-47, 48;..., 49, 90-97, 100-107.
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")
SGR = re.compile(r"\x1b\[[0-9;]*m")
REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def on_terminal(args: list[str], env: dict[str, str], timeout: float = 60.0) -> tuple[int, str]:
    """Run `python -m tui.cli ARGS` with stdout on a pty; returns (exit code, what it drew)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mmtop.tui.cli", *args],
        stdout=slave,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=env,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the pty
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    code = proc.wait(timeout=timeout)
    return code, b"".join(chunks).decode("utf-8", errors="replace")


def test_terminal_table_has_colour(sample: Any, child_env: Callable[..., Any]) -> None:
    env = child_env(TERM="xterm-256color", COLUMNS="250")
    code, drawn = on_terminal(["ls", "--root", str(sample.root)], env)
    assert code == 0
    assert COLOUR.search(drawn), drawn[:500]
    assert "sgd-0.01" in drawn


def test_no_color_turns_colour_off(sample: Any, child_env: Callable[..., Any]) -> None:
    env = child_env(TERM="xterm-256color", COLUMNS="250", NO_COLOR="1")
    code, drawn = on_terminal(["ls", "--root", str(sample.root)], env)
    assert code == 0
    assert "sgd-0.01" in drawn
    assert not COLOUR.search(drawn), drawn[:500]


def test_terminal_table_keeps_hostile_text_inert(
    sample: Any, child_env: Callable[..., Any]
) -> None:
    env = child_env(TERM="xterm-256color", COLUMNS="250")
    args = ["ls", "--root", str(sample.root), "-c", "name,params.escape,params.markup"]
    code, drawn = on_terminal(args, env)
    assert code == 0
    assert "[bold red]boom[/]" in drawn  # markup printed, not interpreted
    assert "\x07" not in drawn and "\x1b[31mred" not in drawn


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_data_formats_write_the_same_inert_bytes_to_a_terminal_and_a_pipe(
    sample: Any, child_env: Callable[..., Any], cli: Callable[..., Any], fmt: str
) -> None:
    env = child_env(TERM="xterm-256color", COLUMNS="250")
    args = ["ls", "--root", str(sample.root), "-c", "name,params.escape", "-f", fmt]
    code, drawn = on_terminal(args, env)
    assert code == 0
    assert "\x1b" not in drawn and "\x07" not in drawn
    piped = cli(*args)
    assert piped.code == 0
    assert b"\x1b" not in piped.out and b"\x07" not in piped.out
    assert drawn.replace("\r\n", "\n") == piped.text.replace("\r\n", "\n")
    if fmt == "csv":
        assert "red\u2407" in drawn  # the colour codes dropped, the bell shown as ␇
    else:
        assert "\\u001b[31mred" in drawn  # JSON keeps the text exact, as escapes


def test_parquet_refuses_a_terminal(sample: Any, child_env: Callable[..., Any]) -> None:
    code, _ = on_terminal(["ls", "--root", str(sample.root), "-f", "parquet"], child_env())
    assert code == 2


def test_diff_on_a_terminal(sample: Any, child_env: Callable[..., Any]) -> None:
    env = child_env(TERM="xterm-256color", COLUMNS="250")
    ids = sample.ids
    code, drawn = on_terminal(
        ["diff", "--root", str(sample.root), ids["sgd-0.1"], ids["sgd-0.001"]], env
    )
    assert code == 0
    assert "params: 3 of 5 keys differ" in drawn
    assert COLOUR.search(drawn)


def test_progress_bar_only_on_a_terminal_stderr(
    sample: Any, child_env: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "history.csv"
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mmtop.tui.cli", "export", "--history", "--root", str(sample.root)],
        stdout=out.open("wb"),
        stderr=slave,
        cwd=REPO_ROOT,
        env=child_env(TERM="xterm-256color"),
    )
    os.close(slave)
    drawn = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the pty
            break
        if not data:
            break
        drawn += data
    os.close(master)
    assert proc.wait(timeout=60) == 0
    text = drawn.decode()
    assert f"export [{'#' * 30}] 4/4 runs" in text
    assert out.read_text().startswith("run_id,experiment,name,key,step,time,value\n")


def test_ls_fits_the_terminal_whole_columns_in_the_apps_order(
    sample: Any, child_env: Callable[..., Any]
) -> None:
    env = child_env(TERM="xterm-256color", COLUMNS="80", NO_COLOR="1")
    code, drawn = on_terminal(["ls", "--root", str(sample.root)], env)
    assert code == 0
    drawn = SGR.sub("", drawn)
    lines = [line for line in drawn.replace("\r", "").splitlines() if line.strip()]
    assert all(len(line) <= 80 for line in lines), lines
    header = lines[0].split()
    # status, name, the id, then metrics (last values) before anything else.
    assert header[:3] == ["status", "name", "run_id"]
    assert header[3] in {"tricky", "val/loss", "weird", "train/loss", "val/acc", "test/acc"}
    # Ids and numbers are whole: the hostile run's last `tricky` is 123456789.12...
    for run_id in sample.ids.values():
        assert run_id in drawn
    assert "1.235e+08" in drawn.split()
    # No cell is cut but text, which ends in an ellipsis.
    assert all("…" not in word or not word[0].isdigit() for word in drawn.split())


def test_ls_columns_flag_is_not_refitted(sample: Any, child_env: Callable[..., Any]) -> None:
    env = child_env(TERM="xterm-256color", COLUMNS="80", NO_COLOR="1")
    code, drawn = on_terminal(["ls", "--root", str(sample.root), "-c", "run_id,name"], env)
    assert code == 0
    assert SGR.sub("", drawn).replace("\r", "").splitlines()[1].split() == ["run_id", "name"]
