"""What rebuilding a run needs, read from what the run captured: its commit, patch, packages
and command, and every piece that is missing or cannot be trusted.

Plain Python (no Textual), shared by `mmtop reproduce` and the app's "reproduce" view. Every
value here comes from files anyone could have edited, so names and versions are checked
against the shapes pip and git accept, and nothing is ever evaluated.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

REDACTED = "<redacted>"
# PEP 508 project names; versions as PEP 440 spells them (public and local parts).
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_PATCH_PATH = re.compile(
    r"^(?:diff --git a/(\S+) b/(\S+)|(?:---|\+\+\+) (\S+)|(?:rename|copy) (?:from|to) (.+))$"
)

HOW_TO_CAPTURE = {
    "code": "log the run with store.Run(capture_code=True) (the default)",
    "git": "start the training script from inside a git checkout with at least one commit",
    "patch": "keep code capture on and the uncommitted diff under the patch size limit",
    "env": "log the run with store.Run(capture_env=True) (the default)",
    "command": "start the run from a script file (`python train.py ...`), not `python -c`",
}


@dataclass
class Missing:
    """A piece the rebuild cannot have, why, and how to capture it next time."""

    piece: str
    why: str

    def __str__(self) -> str:
        hint = HOW_TO_CAPTURE.get(self.piece)
        return f"{self.piece}: {self.why}" + (f" (next time: {hint})" if hint else "")


@dataclass
class Plan:
    run_id: str
    experiment: str
    name: str
    repo: str | None = None  # the checkout's root when the run started
    remote_url: str | None = None
    commit: str | None = None
    branch: str | None = None
    patch: str | None = None  # the uncommitted diff, verified against its recorded digest
    python: str | None = None  # "3.12.3"
    pinned: list[str] = field(default_factory=list)  # name==version
    unpinned: list[str] = field(default_factory=list)  # "name version: why"
    argv: list[str] = field(default_factory=list)  # script path in the checkout, then args
    workdir: str = "."  # where to run the command, relative to the checkout
    redacted: list[int] = field(default_factory=list)  # argv positions holding <redacted>
    untracked: list[str] = field(default_factory=list)
    from_checkout: list[str] = field(default_factory=list)  # local packages inside the repo
    missing: list[Missing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def patch_bytes(self) -> int:
        return len(self.patch.encode()) if self.patch else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "experiment": self.experiment,
            "name": self.name,
            "repo": self.repo,
            "remote_url": self.remote_url,
            "commit": self.commit,
            "branch": self.branch,
            "patch_bytes": self.patch_bytes,
            "python": self.python,
            "pinned": self.pinned,
            "unpinned": self.unpinned,
            "argv": self.argv,
            "workdir": self.workdir,
            "redacted_args": self.redacted,
            "untracked_not_captured": self.untracked,
            "installed_from_checkout": self.from_checkout,
            "missing": [str(m) for m in self.missing],
            "notes": self.notes,
        }


def plan(info: Any) -> Plan:
    """The rebuild of the run `info` (a store RunInfo) as far as its captures allow."""
    out = Plan(run_id=info.run_id, experiment=info.experiment, name=info.name)
    code = info.code
    if not isinstance(code, dict):
        out.missing.append(Missing("code", "code.json was not captured"))
    else:
        _code(out, code, info.patch)
    env = info.env
    if not isinstance(env, dict):
        out.missing.append(Missing("env", "env.json was not captured"))
    else:
        _env(out, env)
    return out


def _code(out: Plan, code: dict[str, Any], patch: str | None) -> None:
    git = code.get("git")
    if not isinstance(git, dict):
        out.missing.append(Missing("git", "the run did not start inside a git checkout"))
    else:
        _git(out, git, patch)
    command = code.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
        out.missing.append(Missing("command", "code.json holds no command line"))
        return
    _command(out, [str(a) for a in command], code.get("cwd"))


def _git(out: Plan, git: dict[str, Any], patch: str | None) -> None:
    commit = git.get("commit")
    out.repo = git["root"] if isinstance(git.get("root"), str) else None
    out.remote_url = git["remote_url"] if isinstance(git.get("remote_url"), str) else None
    out.branch = git["branch"] if isinstance(git.get("branch"), str) else None
    if not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
        why = "the repository had no commit yet" if commit is None else "not a commit id"
        out.missing.append(Missing("git", f"no commit to check out ({why})"))
    else:
        out.commit = commit
    untracked = git.get("untracked")
    if isinstance(untracked, list):
        out.untracked = [str(u) for u in untracked]
    if not git.get("dirty"):
        return
    if patch is None:
        out.missing.append(
            Missing("patch", "the checkout had uncommitted changes and code.patch is missing")
        )
        return
    if git.get("patch_truncated"):
        size = git.get("patch_bytes")
        out.missing.append(Missing("patch", f"code.patch was cut (the diff was {size} bytes)"))
        return
    digest = git.get("patch_sha256")
    if isinstance(digest, str) and hashlib.sha256(patch.encode()).hexdigest() != digest:
        out.missing.append(
            Missing("patch", "code.patch does not match the sha256 recorded in code.json")
        )
        return
    bad = unsafe_patch_paths(patch)
    if bad:
        shown = ", ".join(repr(p) for p in bad[:3])
        out.missing.append(
            Missing("patch", f"code.patch names paths outside the checkout: {shown}")
        )
        return
    out.patch = patch


def unsafe_patch_paths(patch: str) -> list[str]:
    """Paths a patch touches that are absolute or climb out of the checkout (`..`)."""
    bad: list[str] = []
    for line in patch.splitlines():
        found = _PATCH_PATH.match(line)
        if not found:
            continue
        for raw in found.groups():
            if raw is None or raw == "/dev/null":
                continue
            path = raw.strip().strip('"')
            if path.startswith(("a/", "b/")) and not line.startswith(("rename", "copy")):
                path = path[2:]
            pure = PurePosixPath(path)
            if pure.is_absolute() or ".." in pure.parts or "\\" in path:
                bad.append(path)
    return bad


def _command(out: Plan, argv: list[str], cwd: Any) -> None:
    out.redacted = [i for i, a in enumerate(argv) if REDACTED in a]
    script = argv[0]
    if script in ("-c", "-") or not script:
        out.missing.append(Missing("command", f"the run's code came from {script or 'stdin'!r}"))
        return
    repo = Path(out.repo) if out.repo else None
    where = Path(cwd) if isinstance(cwd, str) and Path(cwd).is_absolute() else None
    if repo is None or where is None:
        out.argv = argv
        return
    try:
        workdir = where.relative_to(repo)
    except ValueError:
        out.notes.append("the run started outside its checkout; the command runs at its root")
        workdir = Path(".")
    if ".." in workdir.parts:
        workdir = Path(".")
    out.workdir = workdir.as_posix()
    target = Path(script) if Path(script).is_absolute() else where / script
    try:
        inside = target.relative_to(repo)
    except ValueError:
        out.notes.append(f"the script {script!r} is not in the checkout: it runs from where it is")
        out.argv = argv
        return
    if ".." in inside.parts:
        out.argv = argv
        return
    # Relative to the working folder, so the rebuilt checkout's copy runs, not the original.
    rel = _relative_to(inside, workdir)
    out.argv = [rel, *argv[1:]]


def _relative_to(path: Path, start: Path) -> str:
    up = len(start.parts) - _common(path.parts, start.parts)
    parts = [".."] * up + list(path.parts[_common(path.parts, start.parts) :])
    return str(PurePosixPath(*parts)) if parts else "."


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _env(out: Plan, env: dict[str, Any]) -> None:
    python = env.get("python")
    version = python.get("version") if isinstance(python, dict) else None
    if isinstance(version, str) and re.fullmatch(r"\d+\.\d+(\.\d+)?\w*", version):
        out.python = version
    packages = env.get("packages")
    if not isinstance(packages, dict) or not packages:
        out.missing.append(Missing("env", "env.json lists no packages"))
        return
    local = env.get("local_packages")
    local = local if isinstance(local, dict) else {}
    for name, ver in sorted(packages.items(), key=lambda kv: str(kv[0])):
        if name in local:
            origin = local[name] if isinstance(local[name], dict) else {}
            inside = _inside_checkout(origin.get("url"), out.repo)
            if inside is not None:
                out.from_checkout.append(inside)
                out.notes.append(f"{name}: installed from the checkout: built from src/{inside}")
                continue
            how = "an editable install" if origin.get("editable") else "installed"
            url = str(origin.get("url") or "a local path")[:200]
            out.unpinned.append(f"{name} {str(ver)[:40]}: {how} from {url}, not on any index")
            continue
        pinned, why = pin(name, ver)
        if pinned is not None:
            out.pinned.append(pinned)
        else:
            out.unpinned.append(why)


def _inside_checkout(url: Any, repo: str | None) -> str | None:
    """The folder of a `file:` URL relative to the checkout, when it lies inside it."""
    if not isinstance(url, str) or repo is None or not url.startswith("file:"):
        return None
    try:
        rel = PurePosixPath(unquote(urlsplit(url).path)).relative_to(PurePosixPath(repo))
    except ValueError:
        return None
    if ".." in rel.parts:
        return None
    return rel.as_posix()


def pin(name: Any, version: Any) -> tuple[str | None, str]:
    """("name==version", "") for a package pip can fetch, else (None, why it cannot)."""
    shown = f"{str(name)[:60]!r} {str(version)[:40]!r}"
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return None, f"{shown}: not a valid package name"
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        return None, f"{shown}: not a valid version"
    if "+" in version:
        return None, f"{name} {version}: a local build (+label), not on any index"
    return f"{name}=={version}", ""


def python_command(version: str | None) -> str:
    """The interpreter the run used, by name: 3.12.3 -> python3.12."""
    if version is None:
        return "python3"
    major_minor = ".".join(version.split(".")[:2])
    return f"python{major_minor}"
