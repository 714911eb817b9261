"""The code a run ran: command line, and the git commit, branch, remote and uncommitted diff.

git is asked through its binary (no shell, with a timeout), so a missing git, a folder that is
not a checkout, or a repository git refuses to read all simply mean "no git information".
Nothing here writes to the repository: optional locks are off, so a concurrent `git commit`
by the user never meets an index.lock of ours.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

GIT_TIMEOUT = 5.0
MAX_UNTRACKED = 1000
# The hash of git's empty tree (SHA-1 repositories), to diff a repository with no commit yet.
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


REDACTED = "<redacted>"
# A name holding one of these anywhere is a secret (PGPASSWORD, OPENAI_APIKEY) ...
_SECRET_PARTS = re.compile(
    r"password|passwd|passphrase|secret|api_?key|apikey|credential|private_?key|access_?key"
    r"|access_?token|auth_?token"
)
# ... and so is one with one of these as a whole word (HF_TOKEN, S3_KEY), while max_tokens
# or tokenizer_name are not.
_SECRET_WORDS = frozenset(
    {"token", "key", "pass", "pwd", "auth", "cookie", "session", "signature", "sig", "pat", "sas"}
)
_WORD_SEP = re.compile(r"[^a-z0-9]+")


class _GitError(Exception):
    pass


def collect_code(
    cwd: str | os.PathLike[str] | None = None, max_patch_bytes: int = 1_000_000
) -> tuple[dict[str, Any], str | None]:
    """(code.json content, code.patch text or None when there is no uncommitted change)."""
    folder = Path(cwd) if cwd is not None else Path.cwd()
    info: dict[str, Any] = {
        "command": redact_argv(sys.argv),
        "executable": sys.executable,
        "cwd": str(folder.resolve()),
        "git": None,
    }
    notes: list[str] = []
    try:
        git, patch = _collect_git(folder, max_patch_bytes, notes)
    except _GitError as exc:
        notes.append(str(exc))
        git, patch = None, None
    info["git"] = git
    if notes:
        info["notes"] = notes
    return info, patch


def looks_secret(name: str) -> bool:
    """True for names such as AWS_SECRET_ACCESS_KEY, HF_TOKEN, WANDB_API_KEY, --db-password."""
    lowered = name.lower().replace("-", "_")
    if _SECRET_PARTS.search(lowered):
        return True
    return not _SECRET_WORDS.isdisjoint(_WORD_SEP.split(lowered))


def redact_argv(argv: Sequence[str]) -> list[str]:
    """A command line fit to store: values of secret-looking options hidden, URLs stripped.

    Handles `--api-key=abc`, `--api-key abc` and Hydra-style `wandb.api_key=abc`.
    """
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            hide_next = False
            if not arg.startswith("-"):
                out.append(REDACTED)
                continue
        name, eq, value = arg.partition("=")
        if looks_secret(name.lstrip("-")) and (eq or arg.startswith("-")):
            if eq:
                out.append(f"{name}={REDACTED}")
            else:
                out.append(arg)
                hide_next = True
        elif eq:
            out.append(f"{name}={strip_url_credentials(value)}")
        else:
            out.append(strip_url_credentials(arg))
    return out


def strip_url_credentials(url: str) -> str:
    """Drop credentials from a URL: https://user:token@host/x -> https://host/x, and hide the
    values of secret-looking query parameters (?private_token=, presigned X-Amz-Signature=).

    For ssh:// the user name is kept (it is a login, `git@`), only a password is dropped;
    scp-like `git@host:path` has no password to drop and is returned as is.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}@{hostport}" if parts.scheme == "ssh" and user else hostport
    query = "&".join(_redact_param(param) for param in parts.query.split("&"))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _redact_param(param: str) -> str:
    name, eq, _ = param.partition("=")
    return f"{name}={REDACTED}" if eq and looks_secret(unquote(name)) else param


def _collect_git(
    folder: Path, max_patch_bytes: int, notes: list[str]
) -> tuple[dict[str, Any] | None, str | None]:
    try:
        root = _git(folder, "rev-parse", "--show-toplevel").strip()
    except _GitError as exc:
        # Not a checkout (or no git binary): the common case outside a repository, not an error.
        message = str(exc)
        if "not a git repository" not in message and "no git" not in message:
            notes.append(message)
        return None, None
    status = _git(folder, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal")
    commit, branch, changed, untracked = _parse_status(status)
    git: dict[str, Any] = {
        "root": root,
        "commit": commit,
        "branch": branch,
        **_remote(folder),
        "dirty": changed,
        "untracked": untracked[:MAX_UNTRACKED],
    }
    if len(untracked) > MAX_UNTRACKED:
        git["untracked_truncated"] = True
        git["untracked_count"] = len(untracked)
    patch: str | None = None
    if changed:
        base = commit if commit is not None else _EMPTY_TREE
        try:
            patch, size, digest = _diff(folder, base, max_patch_bytes)
        except _GitError as exc:
            notes.append(str(exc))
        else:
            git["patch_bytes"] = size
            git["patch_sha256"] = digest
            git["patch_truncated"] = size > max_patch_bytes
            if size > max_patch_bytes:
                notes.append(f"patch cut to {max_patch_bytes} of {size} bytes")
    return git, patch


def _parse_status(raw: str) -> tuple[str | None, str | None, bool, list[str]]:
    commit: str | None = None
    branch: str | None = None
    changed = False
    untracked: list[str] = []
    entries = iter(raw.split("\0"))
    for entry in entries:
        if entry.startswith("# branch.oid "):
            oid = entry[len("# branch.oid ") :]
            commit = None if oid == "(initial)" else oid
        elif entry.startswith("# branch.head "):
            head = entry[len("# branch.head ") :]
            branch = None if head == "(detached)" else head
        elif entry.startswith("? "):
            untracked.append(entry[2:])
        elif entry[:2] in ("1 ", "2 ", "u "):
            changed = True
            if entry.startswith("2 "):
                next(entries, None)  # a rename carries its original path as the next field
    return commit, branch, changed, untracked


def _remote(folder: Path) -> dict[str, Any]:
    try:
        raw = _git(folder, "config", "--get-regexp", r"^remote\..*\.url$")
    except _GitError:
        return {"remote": None, "remote_url": None}  # no remote configured: git exits 1
    urls: dict[str, str] = {}
    for line in raw.splitlines():
        key, _, url = line.partition(" ")
        urls.setdefault(key[len("remote.") : -len(".url")], url)
    if not urls:
        return {"remote": None, "remote_url": None}
    name = "origin" if "origin" in urls else sorted(urls)[0]
    return {"remote": name, "remote_url": strip_url_credentials(urls[name])}


def _diff(folder: Path, base: str, max_bytes: int) -> tuple[str | None, int, str]:
    """(patch cut at max_bytes on a line boundary, full size in bytes, sha256 of the full diff).

    git writes into a temporary file rather than a pipe, so a huge diff costs disk, not memory,
    and the timeout needs no reader thread.
    """
    with tempfile.TemporaryFile() as out:
        _run_git(
            folder,
            ["diff", "--no-color", "--no-ext-diff", "--no-textconv", base],
            stdout=out,
        )
        size = out.tell()
        out.seek(0)
        head = out.read(max_bytes)
        digest = hashlib.sha256(head)
        while chunk := out.read(1 << 20):
            digest.update(chunk)
    if size > max_bytes:
        # End on a whole line when there is one, so the kept part reads as a diff.
        cut = head.rfind(b"\n") + 1
        head = head[:cut] if cut else head
    if not head:
        return None, size, digest.hexdigest()
    return head.decode("utf-8", errors="replace"), size, digest.hexdigest()


def _git(folder: Path, *args: str) -> str:
    result = _run_git(folder, list(args), stdout=subprocess.PIPE)
    return result.stdout.decode("utf-8", errors="replace")


def _run_git(folder: Path, args: list[str], stdout: Any) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    # Never take index.lock, never prompt for a password, never page.
    env.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", LC_ALL="C")
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), *args],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=env,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise _GitError("no git binary on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise _GitError(f"git {args[0]} timed out after {GIT_TIMEOUT:g} s") from exc
    except OSError as exc:
        raise _GitError(f"git {args[0]} failed: {exc}") from exc
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {result.returncode}"
        raise _GitError(f"git {args[0]}: {detail}")
    return result
