"""Writing a reproduction folder: the checkout at the run's commit with its patch applied,
requirements.txt, plan.json and reproduce.sh.

Every value that reaches a file or a command line comes from the run's files and is treated
as hostile: git gets it as a separate argument (after `--` where git allows), reproduce.sh
gets it through shlex.quote, requirements.txt only gets names and versions `reproduce_plan`
checked, and nothing is run but git here; the venv, the install and the command run only
from reproduce.sh.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmtop.tui.cli import cells
from mmtop.tui.reproduce_plan import Plan, python_command

STEPS = ("venv", "install", "run")
SCRIPT = "reproduce.sh"
SOURCE = "src"
# Transports a recorded remote may use: never ext:: (runs a command) or fd::.
_GIT_PROTOCOLS = "file:git:http:https:ssh"


class StepFailed(Exception):
    """A step of the rebuild failed; `step` names it for the user."""

    def __init__(self, step: str, why: str) -> None:
        super().__init__(f"step {step!r} failed: {why}")
        self.step = step
        self.why = why


@dataclass(frozen=True)
class Options:
    out: Path
    store_root: str  # the rebuilt run's MMTOP_DIR: an absolute folder or an s3:// URL
    python: str | None = None
    reuse_packages: bool = False
    repo: Path | None = None  # a checkout to clone instead of the recorded one


def write(plan: Plan, opts: Options) -> Path:
    """The reproduction folder, written whole, or StepFailed naming what went wrong."""
    out = _new_folder(opts.out)
    _checkout(plan, out / SOURCE, opts.repo)
    if plan.patch:
        (out / "code.patch").write_text(plan.patch, encoding="utf-8")
        _git(out / SOURCE, "apply", "--whitespace=nowarn", str(out / "code.patch"), step="patch")
    (out / "requirements.txt").write_text(requirements_txt(plan), encoding="utf-8")
    (out / "plan.json").write_text(cells.json_dumps(plan.as_json()) + "\n", encoding="utf-8")
    script = out / SCRIPT
    script.write_text(script_text(plan, opts), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return out


def _new_folder(out: Path) -> Path:
    if out.is_symlink():
        raise StepFailed("folder", f"{str(out)!r} is a symbolic link; give a new folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StepFailed("folder", f"{str(out)!r} exists and is not an empty folder")
    out.mkdir(parents=True, exist_ok=True)
    return out.resolve()


def _checkout(plan: Plan, dest: Path, repo: Path | None) -> None:
    if plan.commit is None:
        raise StepFailed("checkout", "the run recorded no commit")
    source: str | None = None
    if repo is not None:
        source = str(repo)
    elif plan.repo and Path(plan.repo).is_dir():
        source = plan.repo
    elif plan.remote_url:
        source = plan.remote_url
    if source is None:
        where = repr(plan.repo) if plan.repo else "the run's checkout"
        raise StepFailed(
            "checkout", f"{where} is not on this machine and the run recorded no remote"
        )
    if source.startswith("-"):
        raise StepFailed(
            "checkout", f"refusing a repository location that reads as a flag: {source!r}"
        )
    _git(None, "clone", "--quiet", "--no-checkout", "--", source, str(dest), step="checkout")
    try:
        _git(dest, "cat-file", "-e", f"{plan.commit}^{{commit}}", step="checkout")
    except StepFailed:
        raise StepFailed(
            "checkout", f"commit {plan.commit[:12]} is not in {source!r} (pushed? rebased away?)"
        ) from None
    _git(dest, "checkout", "--quiet", "--detach", plan.commit, step="checkout")


def _git(cwd: Path | None, *args: str, step: str) -> None:
    env = dict(os.environ)
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_ALLOW_PROTOCOL=_GIT_PROTOCOLS,
        GIT_CONFIG_NOSYSTEM="1",
        LC_ALL="C",
    )
    where = ["-C", str(cwd)] if cwd is not None else []
    # No hooks and no filters of the repository's own: a clone must not run its code.
    safety = ["-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never"]
    try:
        result = subprocess.run(
            ["git", *safety, *where, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise StepFailed(step, "no git binary on PATH") from None
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
        detail = lines[-1] if lines else f"git {args[0]} exit status {result.returncode}"
        raise StepFailed(step, detail)


def requirements_txt(plan: Plan) -> str:
    head = [
        f"# Packages importable when run {plan.run_id} started, from its env.json.",
        f"# {len(plan.unpinned)} could not be pinned; plan.json lists them and why.",
    ]
    return "\n".join([*head, *plan.pinned]) + "\n"


def script_text(plan: Plan, opts: Options) -> str:
    q = shlex.quote
    python = opts.python or python_command(plan.python)
    command = " ".join(q(a) for a in plan.argv)
    redacted = ""
    if plan.redacted:
        where = ", ".join(str(i) for i in plan.redacted)
        redacted = (
            f"# The command had redacted values (argument {where}): mmtop never stored them.\n"
            "# Put them back below before running this script.\n"
        )
    return f"""#!/bin/sh
# Rebuilds run {plan.run_id}, written by `mmtop reproduce`.
# Usage: sh {SCRIPT} [venv|install|run]   (no argument: all three, in order)
# PYTHON=/path/to/python picks the interpreter that makes the venv.
set -eu
HERE=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
PYTHON=${{PYTHON:-{q(python)}}}
VENV="$HERE/venv"

step_venv() {{
{_venv_lines(opts.reuse_packages)}
}}

step_install() {{
    if "$VENV/bin/python" - "$HERE/requirements.txt" <<'EOF'
{_SATISFIED}
EOF
    then
        echo "every pinned package is installed at its version: nothing to install" >&2
    else
        "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet \\
            -r "$HERE/requirements.txt"
    fi
{_own_packages(plan)}}}

step_run() {{
    cd "$HERE/{SOURCE}"/{q(plan.workdir)}
{redacted}    MMTOP_REPRODUCES={q(plan.run_id)} MMTOP_DIR={q(str(opts.store_root))} \\
        exec "$VENV/bin/python" {command}
}}

case "${{1:-all}}" in
    venv) step_venv ;;
    install) step_install ;;
    run) step_run ;;
    all) step_venv; step_install; step_run ;;
    *) echo "usage: sh {SCRIPT} [venv|install|run]" >&2; exit 2 ;;
esac
"""


# The new venv sees the packages of $PYTHON's environment through a .pth file that adds its
# site folders (addsitedir, so editable installs there work too); pip then installs only
# what differs from the pins. The folder names travel as data (argv), never as code.
_REUSE = """\
    "$PYTHON" -m venv --without-pip "$VENV"
    "$PYTHON" -c 'import site; print("\\n".join(site.getsitepackages()))' >"$VENV/parent-site.txt"
    "$VENV/bin/python" - "$VENV/parent-site.txt" <<'EOF'
import pathlib, sys, sysconfig
folders = [f for f in pathlib.Path(sys.argv[1]).read_text().split("\\n") if f]
pth = pathlib.Path(sysconfig.get_paths()["purelib"]) / "mmtop_reuse_packages.pth"
pth.write_text("".join(f"import site; site.addsitedir({f!r})\\n" for f in folders))
EOF"""


# pip takes seconds to find out that it has nothing to do; this asks importlib.metadata.
_SATISFIED = """\
import importlib.metadata as md, sys
for line in open(sys.argv[1], encoding="utf-8"):
    name, sep, version = line.strip().partition("==")
    if not sep or name.startswith("#"):
        continue
    try:
        if md.version(name) != version:
            sys.exit(1)
    except md.PackageNotFoundError:
        sys.exit(1)"""


def _own_packages(plan: Plan) -> str:
    """The checkout's own packages (installed from it when the run started), built from src/."""
    return "".join(
        '    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --no-deps '
        f'"$HERE/{SOURCE}"/{shlex.quote(rel)}\n'
        for rel in plan.from_checkout
    )


def _venv_lines(reuse: bool) -> str:
    return _REUSE if reuse else '    "$PYTHON" -m venv "$VENV"'


def run_step(folder: Path, step: str) -> int:
    """Run one step of reproduce.sh; its output goes to stderr, stdout stays the report's."""
    import sys

    sys.stderr.flush()
    try:
        err: Any = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stderr (tests, IDEs)
        err = 2
    result = subprocess.run(
        ["sh", str(folder / SCRIPT), step], stdin=subprocess.DEVNULL, stdout=err, check=False
    )
    return result.returncode
