"""The `mmtop` entry point: dispatch, exit codes, one-line errors, no Textual, the real script."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mmtop.tui.cli as cli_entry
from mmtop import store


def test_subcommands_never_import_textual(sample: Any, python: Callable[..., Any]) -> None:
    """Every headless command in one fresh process; Textual must never be imported."""
    root = str(sample.root)
    runs = [f"digits/{name}" for name in ("sgd-0.1", "sgd-0.01")]
    commands = [
        ["ls", "--root", root],
        ["ls", "--root", root, "--format", "csv"],
        ["show", runs[0], "--root", root],
        ["diff", *runs, "--root", root],
        ["export", "--history", "--root", root],
        ["doctor", "--root", root],
        ["completion", "bash"],
    ]
    code = (
        "import sys; from mmtop.tui.cli import main\n"
        f"for argv in {commands!r}:\n"
        "    assert main(argv) == 0, argv\n"
        "    assert 'textual' not in sys.modules, ('textual imported by', argv)\n"
    )
    proc = python(code)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"run_id" in proc.stdout  # the commands really ran


def test_help_prints_usage_and_exits_0(cli: Callable[..., Any]) -> None:
    result = cli("--help")
    assert result.code == 0
    assert "usage: mmtop" in result.text
    for command in ("ls", "show", "diff", "export", "doctor", "completion"):
        assert command in result.text
    sub = cli("ls", "--help")
    assert sub.code == 0 and "--where" in sub.text and "--sort" in sub.text


def test_bad_flag_is_usage_error_on_one_line(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("ls", "--root", sample.root, "--bogus")
    assert result.code == 2
    assert result.out == b""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmtop: error: unrecognized arguments")


def test_bad_choice_is_usage_error(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("ls", "--root", sample.root, "--format", "xls")
    assert result.code == 2
    assert "invalid choice" in result.err


def test_missing_store_is_runtime_error(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("ls", "--root", tmp_path / "nowhere")
    assert result.code == 1
    assert result.out == b""
    assert result.err == f"mmtop: error: no store at {str(tmp_path / 'nowhere')!r} " + (
        "(use --root PATH or set $MMTOP_DIR)\n"
    )


def test_root_defaults_to_mmtop_dir(
    cli: Callable[..., Any], sample: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MMTOP_DIR", str(sample.root))
    result = cli("ls", "-q")
    assert result.code == 0
    assert sorted(result.text.split()) == sorted(sample.ids.values())


def test_bad_where_is_usage_error(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("ls", "--root", sample.root, "--where", "params.lr >>> 3")
    assert result.code == 2
    assert result.out == b""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmtop: error: bad --where expression")


def test_unknown_run_is_runtime_error(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("show", "--root", sample.root, "nope")
    assert result.code == 1
    assert result.err.startswith("mmtop: error: no run matches 'nope'")
    assert "Traceback" not in result.err


def test_debug_shows_the_traceback(cli: Callable[..., Any], sample: Any) -> None:
    result = cli("show", "--root", sample.root, "nope", "--debug")
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert result.err.rstrip().splitlines()[-1].startswith("mmtop: error: no run matches")


def test_unknown_word_suggests_a_command(cli: Callable[..., Any]) -> None:
    result = cli("lss")
    assert result.code == 2
    assert "did you mean 'ls'?" in result.err


def test_path_or_nothing_starts_the_app(
    cli: Callable[..., Any], sample: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str | None] = []
    fake = types.ModuleType("mmtop.tui.app")

    def run_app(path: str | None) -> int:
        calls.append(path)
        return 0

    fake.run_app = run_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mmtop.tui.app", fake)
    monkeypatch.setattr(cli_entry, "_is_terminal", lambda stream: True)  # as on a terminal
    assert cli(sample.root).code == 0
    assert cli().code == 0
    assert cli("--root", sample.root).code == 0
    assert calls == [str(sample.root), None, str(sample.root)]


def test_version(cli: Callable[..., Any]) -> None:
    result = cli("--version")
    assert result.code == 0 and result.text.startswith("mmtop ")


def test_real_entry_point_round_trip(sample: Any, run_process: Callable[..., Any]) -> None:
    ok = run_process("ls", "--root", sample.root, "-q", "--sort", "created")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.decode().split() == list(sample.ids.values())
    bad = run_process("ls", "--root", sample.root, "--limit", "-3")
    assert bad.returncode == 2
    assert bad.stdout == b""
    assert bad.stderr.decode().count("\n") == 1
    missing = run_process("show", "--root", sample.root, "zzz")
    assert missing.returncode == 1
    assert b"Traceback" not in missing.stderr


def test_closed_pipe_is_not_an_error(tmp_path: Path, child_env: Callable[..., Any]) -> None:
    root = tmp_path / "mmruns"
    with store.Run(experiment="e", name="long", root=root) as run:
        for step in range(20_000):  # ~2 MB of CSV: far more than a pipe buffer holds
            run.log({"loss": 1.0 / (step + 1)}, step=step)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mmtop.tui.cli", "export", "--history", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
        env=child_env(),
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert b"Traceback" not in err
