"""`mmtop completion bash|zsh`: scripts that parse and complete commands, flags and run ids."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mmtop.tui.cli.args import COMMANDS

REPO_ROOT = Path(__file__).resolve().parents[2]
needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")


def complete(script: str, words: list[str], env: dict[str, str]) -> list[str]:
    """COMPREPLY of the generated bash function for the command line `words` (last = cur)."""
    # `mmtop` must resolve in the completion's subshells: a function standing in for the script.
    program = f"""
mmtop() {{ python -m tui.cli "$@"; }}
{script}
COMP_WORDS=({" ".join(repr(w) if w else "''" for w in words)})
COMP_CWORD={len(words) - 1}
_mmtop
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    proc = subprocess.run(
        ["bash", "-c", program], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


@needs_bash
def test_bash_script_completes(
    cli: Callable[..., Any], sample: Any, child_env: Callable[..., Any]
) -> None:
    result = cli("completion", "bash")
    assert result.code == 0
    script = result.text
    env = child_env()
    check = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert check.returncode == 0, check.stderr
    assert set(COMMANDS) <= set(complete(script, ["mmtop", ""], env))
    assert complete(script, ["mmtop", "ex"], env) == ["export"]
    assert complete(script, ["mmtop", "ls", "--so"], env) == ["--sort"]
    assert complete(script, ["mmtop", "ls", "--format", "j"], env) == ["json", "jsonl"]
    assert complete(script, ["mmtop", "diff", "--format", ""], env) == [
        "table",
        "csv",
        "json",
        "md",
    ]
    ids = complete(script, ["mmtop", "show", "--root", str(sample.root), ""], env)
    assert sorted(ids) == sorted(sample.ids.values())
    prefix = sample.ids["hostile"][:-3]
    hits = complete(script, ["mmtop", "diff", "--root", str(sample.root), prefix], env)
    assert hits == [sample.ids["hostile"]]


@needs_bash
def test_bash_script_completes_models_actions_flags_and_refs(
    cli: Callable[..., Any], tmp_path: Path, child_env: Callable[..., Any]
) -> None:
    from mmtop import store

    root = tmp_path / "mmruns"
    weights = tmp_path / "w.onnx"
    weights.write_bytes(b"w")
    with store.Run("e", root=root, capture_system=False, capture_code=False) as run:
        for name in ("digits-clf", "digits-clf", "resnet"):
            run.log_model(weights, name)
    script = cli("completion", "bash").text
    env = child_env()
    actions = ["ls", "show", "lineage", "history", "diff", "alias", "unalias", "export", "verify"]
    actions += ["deploy", "rollback", "undeploy", "retire", "predict", "deployments"]
    assert complete(script, ["mmtop", "models", ""], env) == actions
    assert complete(script, ["mmtop", "models", "l"], env) == ["ls", "lineage"]
    assert complete(script, ["mmtop", "models", "dep"], env) == ["deploy", "deployments"]
    assert complete(script, ["mmtop", "--root", str(root), "models", "una"], env) == ["unalias"]
    assert complete(script, ["mmtop", "models", "verify", "--f"], env) == ["--format"]
    assert complete(script, ["mmtop", "models", "history", "-f", "j"], env) == ["json", "jsonl"]
    assert complete(script, ["mmtop", "models", "export", "--"], env) == [
        "--help",
        "--root",
        "--debug",
        "--output",
    ]
    refs = complete(script, ["mmtop", "models", "show", "--root", str(root), ""], env)
    assert refs == ["digits-clf/1", "digits-clf/2", "resnet/1"]
    hits = complete(script, ["mmtop", "models", "diff", "--root", str(root), "digits-clf/"], env)
    assert hits == ["digits-clf/1", "digits-clf/2"]
    names = complete(script, ["mmtop", "models", "--root", str(root), "alias", ""], env)
    assert names == ["digits-clf", "resnet"]
    assert complete(script, ["mmtop", "models", "alias", "resnet", ""], env) == []
    # A top-level command of the same name as an action is still the command.
    assert complete(script, ["mmtop", "ls", "--q"], env) == ["--quiet"]


def test_zsh_script_covers_every_flag(cli: Callable[..., Any]) -> None:
    script = cli("completion", "zsh").text
    assert script.startswith("#compdef mmtop\n")
    for command in COMMANDS:
        assert f"            {command})\n" in script
    for flag in ("--where", "--sort", "--columns", "--history", "--wide", "--baseline", "--deep"):
        assert f"'{flag}[" in script or f"'*{flag}[" in script
    assert "':run:_mmtop_runs'" in script and "'*:runs:_mmtop_runs'" in script
    assert "actions=('ls:list model versions" in script and "':ref:_mmtop_refs'" in script
    # every spec line is a balanced single-quoted word
    for line in script.splitlines():
        if line.strip().startswith("'"):
            assert line.count("'") % 2 == 0, line


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh not installed")
def test_zsh_script_parses(cli: Callable[..., Any]) -> None:
    script = cli("completion", "zsh").text
    check = subprocess.run(["zsh", "-n"], input=script, text=True, capture_output=True)
    assert check.returncode == 0, check.stderr


def test_unknown_shell_is_usage_error(cli: Callable[..., Any]) -> None:
    result = cli("completion", "fish")
    assert result.code == 2
