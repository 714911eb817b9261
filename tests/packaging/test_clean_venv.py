"""The README's install works in a brand-new venv with no extras, editable and as a wheel.

Each venv holds only what `pip install` pulls for mmtop itself, so an import that needs an
undeclared dependency (numpy once hid behind the test extra) fails here. In each venv a
training script logs a run from a folder that holds its own `store.py`, `tui.py` and `store/`,
`mmtop ls` reads it, and the app is driven over the bundled samples and over that run.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMOKE = Path(__file__).with_name("smoke_app.py")
README_FIRST = "pip install -e . && mmtop sample_runs"
BARE_NAME = re.compile(r"^(?:store|tui)(?:\.|$)")

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the sources"),
]

TRAIN = """\
from mmtop import store
import mmtop.store

assert "site-packages" in mmtop.store.__file__ or {editable!r}, mmtop.store.__file__
with store.Run(experiment="digits", name="clean-venv", params={{"lr": 0.5}}, root="mmruns") as run:
    for step in range(50):
        run.log({{"train/loss": 1.0 / (step + 1), "val/acc": step / 50}}, step=step)
    run.log_confusion_matrix([0, 1, 1, 0], [0, 1, 0, 0], name="val")
    run.note("made in a clean venv")
print(run.run_id)
"""


def _env(venv_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "MMTOP_DIR"}}
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(argv: list[str], cwd: Path, venv_dir: Path) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env=_env(venv_dir), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _fresh_venv(where: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    return where


def _in_a_terminal(command: str, cwd: Path, venv_dir: Path, until: bytes, keys: bytes) -> bytes:
    """Run `command` under bash in a pseudo-terminal; once `until` shows, type `keys`."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a shell in the venv, as a user who just typed the command
        os.chdir(cwd)
        env = _env(venv_dir) | {"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
        os.execvpe("bash", ["bash", "-c", command], env)
    seen = b""
    typed = False
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the child closed the terminal: it has exited
                    break
                if not chunk:
                    break
                seen += chunk
            if not typed and until in seen:
                os.write(fd, keys)
                typed = True
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert typed, f"never saw {until!r}:\n{seen[-3000:].decode(errors='replace')}"
    assert os.waitstatus_to_exitcode(status) == 0, seen[-3000:].decode(errors="replace")
    return seen


def _source_copy(dest: Path) -> Path:
    """The working tree's files as a clone would have them (no caches, no build output)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    # What a developer's working copy has and no install may ship.
    (dest / "sample_runs" / ".mmtop").mkdir(exist_ok=True)
    (dest / "sample_runs" / ".mmtop" / "runs-frame-v2.parquet").write_bytes(b"cache")
    run_dir = next((dest / "sample_runs" / "digits").iterdir())
    (run_dir / ".lock").write_bytes(b"")
    return dest


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _source_copy(tmp_path_factory.mktemp("src"))


def _user_folder(where: Path, editable: bool) -> Path:
    """A user's project folder whose own modules are named like ours."""
    where.mkdir()
    (where / "store.py").write_text("raise ImportError('the user\\'s store.py was imported')\n")
    (where / "tui.py").write_text("raise ImportError('the user\\'s tui.py was imported')\n")
    (where / "store").mkdir()
    (where / "store" / "__init__.py").write_text("Run = None  # the user's own package\n")
    (where / "train.py").write_text(TRAIN.format(editable=editable))
    shutil.copy(SMOKE, where / "smoke_app.py")
    return where


def _exercise(venv_dir: Path, work: Path, no_store: Path) -> None:
    python = str(venv_dir / "bin" / "python")
    run_id = _run([python, "train.py"], work, venv_dir).strip()
    assert (work / "mmruns" / "digits" / run_id / "run.json").is_file()
    listed = _run(
        ["mmtop", "ls", "--format", "csv", "--columns", "run_id,name,status,metrics.val/acc"],
        work,
        venv_dir,
    )
    assert listed.splitlines()[1:] == [f"{run_id},clean-venv,finished,0.98"], listed
    # From the user's folder, where `store` and `tui` name the user's own modules.
    assert _run([python, "smoke_app.py", "mmruns"], work, venv_dir).strip() == "ok"
    no_store.mkdir(exist_ok=True)
    assert _run([python, str(SMOKE), "--samples"], no_store, venv_dir).strip() == "ok"


def _bare_imports(files: Iterator[Path]) -> list[str]:
    """Every `import store...`/`from tui... import` statement, also in code held in strings."""
    found = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            for statement in re.split(r";|\\n", line.strip(" \t\"'")):
                words = statement.split()
                if words[:1] == ["from"] and len(words) > 1:
                    names = [words[1]]
                elif words[:1] == ["import"]:
                    names = [n.split()[0] for n in " ".join(words[1:]).split(",") if n.strip()]
                else:
                    continue
                found += [f"{path}: {statement.strip()}" for n in names if BARE_NAME.match(n)]
    return found


def test_readme_first_command_in_a_fresh_venv(source: Path, tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    assert README_FIRST in readme, "the README's first command changed: update this test"
    venv_dir = _fresh_venv(tmp_path / "venv")
    # Word for word, in a terminal: installs, paints the sample runs (the newest one, on the
    # first screen at any width), quits on `q`.
    screen = _in_a_terminal(README_FIRST, source, venv_dir, until=b"sgd-preempted", keys=b"q")
    assert b"Successfully installed" in screen
    _exercise(venv_dir, _user_folder(tmp_path / "project", editable=True), tmp_path / "empty")


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + [str(source), "-w", str(dist)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    [found] = dist.glob("mmtop-*.whl")
    return found


def test_wheel_holds_the_sample_store_without_caches_or_locks(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    samples = [n for n in names if n.startswith("mmtop/tui/_sample_runs/")]
    assert "mmtop/tui/_sample_runs/mmtop-store.json" in samples
    assert any(n.endswith("/run.json") for n in samples)
    assert any(n.endswith(".parquet") and "/metrics/" in n for n in samples)
    assert not [n for n in samples if "/.mmtop/" in n or n.endswith(".lock")]
    assert "mmtop/tui/app.tcss" in names and "mmtop/store/__init__.py" in names
    assert "mmtop/__init__.py" not in names  # an implicit namespace
    tracked = subprocess.run(
        ["git", "ls-files", "sample_runs"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    shipped = {n.removeprefix("mmtop/tui/_sample_runs/") for n in samples}
    assert [t for t in tracked if t.removeprefix("sample_runs/") not in shipped] == []


def test_wheel_in_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    venv_dir = _fresh_venv(tmp_path / "venv")
    _run([str(venv_dir / "bin" / "pip"), "install", "-q", str(wheel)], tmp_path, venv_dir)
    installed = next((venv_dir / "lib").glob("python3.*/site-packages/mmtop"))
    assert _bare_imports(installed.rglob("*.py")) == []
    _exercise(venv_dir, _user_folder(tmp_path / "project", editable=False), tmp_path / "empty")


def test_nothing_in_the_repo_imports_a_bare_store_or_tui() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "*.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert _bare_imports(REPO / name for name in listed) == []
