"""`mmtop reproduce`: real git repositories, a real scikit-learn training script, real rebuilds.

The rebuilds use `--python` (this interpreter) with `--reuse-packages`: the reproduction's venv
sees this test environment's packages, which pin the same versions the runs captured (they
ran in it), so the install step finds nothing to install and costs well under a second.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmtop import store
from mmtop.tui.cli import main
from mmtop.tui.reproduce_plan import pin, unsafe_patch_paths

TRAIN = """\
import os
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier

from mmtop import store
from mmtop.tui.cli import main

ALPHA = 1e-4
X, y = load_digits(return_X_y=True)
X = X / 16.0
# Unseeded when asked: a rebuild of such a run cannot match.
seed = None if os.environ.get("TRAIN_UNSEEDED") else 0
params = {"alpha": ALPHA, "epochs": int(sys.argv[1])}
with store.Run("digits", params=params, capture_system=False) as run:
    run.log_dataset({f"p{i}": X[:, i] for i in range(X.shape[1])}, "train")
    clf = SGDClassifier(alpha=ALPHA, random_state=seed)
    rng = np.random.default_rng(seed)
    for epoch in range(params["epochs"]):
        order = rng.permutation(len(X))
        clf.partial_fit(X[order], y[order], classes=np.arange(10))
        run.log({"train/acc": clf.score(X, y), "weights/norm": np.linalg.norm(clf.coef_)})
"""

# No scikit-learn: for the runs that are never rebuilt, and for hostile command lines.
TINY = """\
import os
import sys

from mmtop import store
from mmtop.tui.cli import main

with store.Run(
    "tiny", params={"args": sys.argv[1:]}, capture_system=False,
    capture_env=not os.environ.get("TINY_NO_ENV"),
) as run:
    run.log({"x": 1.0})
"""


@dataclass
class Project:
    repo: Path
    root: Path
    first: str  # seeded, its patch sets ALPHA = 3e-4
    second: str  # unseeded, after another uncommitted change (ALPHA = 5e-4)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _init_repo(repo: Path, files: dict[str, str]) -> None:
    repo.mkdir(parents=True)
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "dev@example.com")
    _git(repo, "config", "user.name", "dev")
    for name, text in files.items():
        (repo / name).write_text(text, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MMTOP_", "TRAIN_", "TINY_"))}
    env.update(MMTOP_DIR=str(root), **extra)
    return env


def _train(repo: Path, root: Path, script: str, *args: str, **extra: str) -> str:
    before = set(store.open(root).runs()["run_id"].to_list()) if root.exists() else set()
    subprocess.run(
        [sys.executable, script, *args],
        cwd=repo,
        env=_env(root, **extra),
        check=True,
        capture_output=True,
        timeout=120,
    )
    (new,) = set(store.open(root).runs()["run_id"].to_list()) - before
    return str(new)


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def mmtop(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Done]:
    """`mmtop ARGS --root ROOT` in this process; the rebuild steps' output lands on fd 2."""
    for name in list(os.environ):
        if name.startswith(("MMTOP_", "TRAIN_", "TINY_")):
            monkeypatch.delenv(name)

    def run(root: Path, *args: str, **extra: str) -> Done:
        for name, value in extra.items():
            monkeypatch.setenv(name, value)
        code = main([*args, "--root", str(root)])
        out, err = capfd.readouterr()
        for name in extra:
            monkeypatch.delenv(name)
        return Done(code, out, err)

    return run


@pytest.fixture
def tiny_run(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Log a run of tiny.py in this process, captured as if `python tiny.py ARGS` in repo."""

    def run(repo: Path, root: Path, *args: str, capture_env: bool = True) -> str:
        monkeypatch.chdir(repo)
        monkeypatch.setattr(sys, "argv", ["tiny.py", *args])
        with store.Run(
            "tiny",
            params={"args": list(args)},
            root=root,
            capture_system=False,
            capture_env=capture_env,
        ) as run:
            run.log({"x": 1.0})
        return run.run_id

    return run


def _fast(out: Path) -> list[str]:
    return ["-o", str(out), "--python", sys.executable, "--reuse-packages"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    base = tmp_path_factory.mktemp("reproduce")
    repo, root = base / "repo", base / "mmruns"
    _init_repo(repo, {"train.py": TRAIN, "tiny.py": TINY})
    train = repo / "train.py"
    train.write_text(TRAIN.replace("ALPHA = 1e-4", "ALPHA = 3e-4"), encoding="utf-8")
    first = _train(repo, root, "train.py", "3")
    train.write_text(TRAIN.replace("ALPHA = 1e-4", "ALPHA = 5e-4"), encoding="utf-8")
    second = _train(repo, root, "train.py", "2", TRAIN_UNSEEDED="1")
    return Project(repo, root, first, second)


def test_rebuild_uses_the_runs_own_patch_and_matches_exactly(
    project: Project, tmp_path: Path, mmtop: Callable[..., Done]
) -> None:
    out = tmp_path / "rebuild"
    done = mmtop(project.root, "reproduce", project.first, "--run", *_fast(out))
    assert done.returncode == 0, done.stderr
    assert "reproduced exactly" in done.stdout
    st = store.open(project.root)
    (new,) = [r for r in st.runs()["run_id"].to_list() if st.run(r).meta.get("reproduces")]
    rebuilt = st.run(new)
    assert rebuilt.meta["reproduces"] == project.first
    # The first run's patch (3e-4), not the working tree's later change (5e-4).
    assert rebuilt.params == {"alpha": 3e-4, "epochs": 3}
    assert "ALPHA = 3e-4" in (out / "src" / "train.py").read_text(encoding="utf-8")
    assert (project.repo / "train.py").read_text(encoding="utf-8").count("ALPHA = 5e-4") == 1
    shown = mmtop(project.root, "show", new)
    assert f"reproduces  {project.first}" in shown.stdout
    as_json = json.loads(mmtop(project.root, "show", new, "-f", "json").stdout)
    assert as_json["reproduces"] == project.first
    assert f"reproduced by  {new}" in mmtop(project.root, "show", project.first).stdout
    original = json.loads(mmtop(project.root, "show", project.first, "-f", "json").stdout)
    assert (original["reproduces"], original["reproduced_by"]) == (None, [new])


def test_writing_the_folder_runs_nothing(
    project: Project, tmp_path: Path, mmtop: Callable[..., Done]
) -> None:
    out = tmp_path / "rebuild"
    count = len(store.open(project.root).runs())
    done = mmtop(project.root, "reproduce", project.second, *_fast(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "code.patch",
        "plan.json",
        "reproduce.sh",
        "requirements.txt",
        "src",
    ]
    assert len(store.open(project.root).runs()) == count
    assert "ALPHA = 5e-4" in (out / "src" / "train.py").read_text(encoding="utf-8")
    pins = (out / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert f"scikit-learn=={importlib.metadata.version('scikit-learn')}" in pins
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["argv"] == ["train.py", "2"]
    assert plan["missing"] == []
    # This test environment installs mmtop from its checkout: no index has that build.
    assert (
        [u for u in plan["unpinned"] if u.startswith("mmtop ")]
        == [u for u in plan["unpinned"] if u.startswith("mmtop ") and "not on any index" in u]
        != []
    )
    assert not [p for p in pins if p.startswith("mmtop==")]
    again = mmtop(project.root, "reproduce", project.second, *_fast(out))
    assert again.returncode == 1
    assert "is not an empty folder" in again.stderr


def test_unseeded_run_differs_and_a_loose_rtol_accepts_it(
    project: Project, tmp_path: Path, mmtop: Callable[..., Done]
) -> None:
    args = ("reproduce", project.second, "--run")
    strict = mmtop(project.root, *args, *_fast(tmp_path / "a"), TRAIN_UNSEEDED="1")
    assert strict.returncode == 3, strict.stderr
    assert "weights/norm" in strict.stdout
    assert "not reproduced:" in strict.stdout and "metric value(s) differ" in strict.stdout
    loose = mmtop(project.root, *args, "--rtol", "1", *_fast(tmp_path / "b"), TRAIN_UNSEEDED="1")
    assert loose.returncode == 0, loose.stdout + loose.stderr
    assert "reproduced within rtol 1" in loose.stdout


def test_missing_commit_fails_at_checkout(
    project: Project, tmp_path: Path, mmtop: Callable[..., Done]
) -> None:
    other = tmp_path / "other"
    _init_repo(other, {"README": "another history\n"})
    args = ("reproduce", project.first, "--repo", str(other), *_fast(tmp_path / "out"))
    done = mmtop(project.root, *args)
    assert done.returncode == 1
    assert "step 'checkout' failed" in done.stderr
    assert "is not in" in done.stderr


def test_patch_that_does_not_apply_fails_at_patch(
    project: Project, tmp_path: Path, mmtop: Callable[..., Done], tiny_run: Callable[..., str]
) -> None:
    root = tmp_path / "mmruns"
    repo = tmp_path / "repo"
    _init_repo(repo, {"tiny.py": TINY})
    (repo / "tiny.py").write_text(TINY + "# changed\n", encoding="utf-8")
    run_id = tiny_run(repo, root)
    folder = store.open(root).run(run_id).path
    # A hand-edited patch, its digest updated to match: the context no longer exists.
    patch = (folder / "code.patch").read_text(encoding="utf-8").replace('{"x": 1.0}', '{"x": 2.0}')
    (folder / "code.patch").write_text(patch, encoding="utf-8")
    code = json.loads((folder / "code.json").read_text(encoding="utf-8"))
    code["git"]["patch_sha256"] = hashlib.sha256(patch.encode()).hexdigest()
    (folder / "code.json").write_text(json.dumps(code), encoding="utf-8")
    done = mmtop(root, "reproduce", run_id, *_fast(tmp_path / "out"))
    assert done.returncode == 1
    assert "step 'patch' failed" in done.stderr


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("no-git", "git: the run did not start inside a git checkout"),
        ("no-patch", "patch: the checkout had uncommitted changes and code.patch is missing"),
        ("edited-patch", "patch: code.patch does not match the sha256 recorded in code.json"),
        ("no-env", "env: env.json was not captured"),
    ],
)
def test_refuses_naming_what_was_not_captured(
    tmp_path: Path, case: str, named: str, mmtop: Callable[..., Done], tiny_run: Callable[..., str]
) -> None:
    root, repo = tmp_path / "mmruns", tmp_path / "repo"
    if case == "no-git":
        repo.mkdir()
        (repo / "tiny.py").write_text(TINY, encoding="utf-8")
    else:
        _init_repo(repo, {"tiny.py": TINY})
        (repo / "tiny.py").write_text(TINY + "# changed\n", encoding="utf-8")
    run_id = tiny_run(repo, root, capture_env=case != "no-env")
    folder = store.open(root).run(run_id).path
    if case == "no-patch":
        (folder / "code.patch").unlink()
    if case == "edited-patch":
        with (folder / "code.patch").open("a", encoding="utf-8") as f:
            f.write("+import evil\n")
    out = tmp_path / "out"
    done = mmtop(root, "reproduce", run_id, *_fast(out))
    assert done.returncode == 1
    assert f"cannot rebuild run {run_id}: not captured: {named}" in done.stderr
    assert "(next time: " in done.stderr
    assert not out.exists()


def test_hostile_command_line_reaches_the_script_as_plain_arguments(
    tmp_path: Path, mmtop: Callable[..., Done], tiny_run: Callable[..., str]
) -> None:
    root, repo = tmp_path / "mmruns", tmp_path / "repo"
    _init_repo(repo, {"tiny.py": TINY})
    hostile = ["$(touch pwned1)", "; touch pwned2", "`touch pwned3`", "it's", "a\nb"]
    original = tiny_run(repo, root, *hostile)
    done = mmtop(root, "reproduce", original, "--run", *_fast(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    st = store.open(root)
    (new,) = [r for r in st.runs()["run_id"].to_list() if r != original]
    assert st.run(new).params == {"args": hostile}
    assert not [p for p in tmp_path.rglob("pwned*")]


def test_redacted_command_is_written_but_never_run(
    tmp_path: Path, mmtop: Callable[..., Done], tiny_run: Callable[..., str]
) -> None:
    root, repo = tmp_path / "mmruns", tmp_path / "repo"
    _init_repo(repo, {"tiny.py": TINY})
    original = tiny_run(repo, root, "--api-key", "sk-live-123")
    out = tmp_path / "out"
    done = mmtop(root, "reproduce", original, "--run", *_fast(out))
    assert done.returncode == 1
    assert "step 'run' refused: the command had 1 redacted value(s)" in done.stderr
    script = (out / "reproduce.sh").read_text(encoding="utf-8")
    assert "tiny.py --api-key '<redacted>'" in script
    assert "sk-live-123" not in script
    assert len(store.open(root).runs()) == 1


def test_patch_paths_outside_the_checkout_are_refused() -> None:
    patch = (
        "diff --git a/ok.py b/../../etc/evil\n--- a/ok.py\n+++ b/../../etc/evil\n"
        "diff --git a/x b/x\n--- /dev/null\n+++ b//abs/path\nrename to ../up\n"
    )
    assert unsafe_patch_paths(patch) == [
        "../../etc/evil",
        "../../etc/evil",
        "/abs/path",
        "../up",
    ]
    assert unsafe_patch_paths("diff --git a/src/x.py b/src/x.py\n+++ b/src/x.py\n") == []


def test_only_plain_names_and_versions_are_pinned() -> None:
    assert pin("scikit-learn", "1.5.2") == ("scikit-learn==1.5.2", "")
    assert pin("evil\n--index-url=http://x", "1.0")[0] is None
    assert pin("numpy", "1.0; os.system('x')")[0] is None
    assert pin("numpy", "2.0 --hash")[0] is None
    local = pin("mypkg", "0.1+local")
    assert local == (None, "mypkg 0.1+local: a local build (+label), not on any index")


def test_reproduces_comes_from_the_environment_and_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "mmruns"
    monkeypatch.setenv("MMTOP_REPRODUCES", "20261127T015823Z-3f9a1c07b2e4")
    with store.Run("e", root=root, capture_system=False, capture_env=False) as run:
        pass
    assert store.open(root).run(run.run_id).meta["reproduces"] == "20261127T015823Z-3f9a1c07b2e4"
    monkeypatch.setenv("MMTOP_REPRODUCES", "../../etc")
    with pytest.raises(ValueError, match=r"\$MMTOP_REPRODUCES is not a run id: '\.\./\.\./etc'"):
        store.Run("e", root=tmp_path / "other", capture_system=False)
    assert not (tmp_path / "other").exists()
    monkeypatch.delenv("MMTOP_REPRODUCES")
    with store.Run("e", root=root, capture_system=False, capture_env=False) as plain:
        pass
    assert "reproduces" not in store.open(root).run(plain.run_id).meta


@pytest.mark.parametrize("transport", ["file", "ext"])
def test_without_the_checkout_the_recorded_remote_is_cloned_if_its_transport_is_safe(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    transport: str,
    mmtop: Callable[..., Done],
    tiny_run: Callable[..., str],
) -> None:
    root, repo = tmp_path / "mmruns", tmp_path / "repo"
    _init_repo(repo, {"tiny.py": TINY})
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    pwned = tmp_path / "pwned"
    url = bare.as_uri() if transport == "file" else f"ext::sh -c touch% {pwned}"
    _git(repo, "remote", "add", "origin", url)
    run_id = tiny_run(repo, root)
    monkeypatch.chdir(tmp_path)
    shutil.rmtree(repo)
    out = tmp_path / "out"
    done = mmtop(root, "reproduce", run_id, *_fast(out))
    if transport == "file":
        assert done.returncode == 0, done.stderr
        assert (out / "src" / "tiny.py").read_text(encoding="utf-8") == TINY
    else:
        assert done.returncode == 1
        assert "step 'checkout' failed" in done.stderr
        assert not pwned.exists()


def test_a_model_registered_from_a_rebuild_keeps_the_edge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mmtop: Callable[..., Done]
) -> None:
    root = tmp_path / "mmruns"
    weights = tmp_path / "w.onnx"
    weights.write_bytes(b"\0" * 10)
    monkeypatch.setenv("MMTOP_REPRODUCES", "20261127T015823Z-3f9a1c07b2e4")
    with store.Run("e", root=root, capture_system=False, capture_env=False) as run:
        run.log_model(weights, "clf")
    monkeypatch.delenv("MMTOP_REPRODUCES")
    tree = mmtop(root, "models", "lineage", "clf").stdout.splitlines()
    assert tree[0].startswith(f"run      e/{run.run_id}")
    assert tree[1] == "         reproduces 20261127T015823Z-3f9a1c07b2e4"
    doc = json.loads(mmtop(root, "models", "lineage", "clf", "-f", "json").stdout)
    assert doc["reproduces"] == "20261127T015823Z-3f9a1c07b2e4"


def test_the_checkouts_own_package_is_built_from_the_rebuilt_source(
    tmp_path: Path, mmtop: Callable[..., Done], tiny_run: Callable[..., str]
) -> None:
    root, repo = tmp_path / "mmruns", tmp_path / "repo"
    _init_repo(repo, {"tiny.py": TINY})
    run_id = tiny_run(repo, root)
    # As env.json reads after `pip install -e ./lib` in the checkout: its name was captured
    # with its version, and direct_url.json said where it came from.
    env_file = store.open(root).run(run_id).path / "env.json"
    env = json.loads(env_file.read_text(encoding="utf-8"))
    env["packages"]["tinyproj"] = "0.1"
    env["local_packages"]["tinyproj"] = {"url": (repo / "lib").as_uri(), "editable": True}
    env["local_packages"]["elsewhere"] = {"url": "file:///opt/elsewhere", "editable": False}
    env["packages"]["elsewhere"] = "2.0"
    env_file.write_text(json.dumps(env), encoding="utf-8")
    out = tmp_path / "out"
    done = mmtop(root, "reproduce", run_id, *_fast(out))
    assert done.returncode == 0, done.stderr
    assert "note: tinyproj: installed from the checkout: built from src/lib" in done.stderr
    assert "not pinned: elsewhere 2.0: installed from file:///opt/elsewhere, not on" in done.stderr
    script = (out / "reproduce.sh").read_text(encoding="utf-8")
    assert '--quiet --no-deps "$HERE/src"/lib\n' in script
    pins = (out / "requirements.txt").read_text(encoding="utf-8")
    assert "tinyproj" not in pins and "elsewhere" not in pins
