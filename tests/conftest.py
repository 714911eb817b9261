"""Fixtures shared by the test suites: a store root, deadline polling, child processes.

With `--import-mode=importlib` test modules cannot import a helper module by name, so the
helpers are handed out as fixtures.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from textual.pilot import Pilot

REPO_ROOT = Path(__file__).resolve().parents[1]


class WaitUntil(Protocol):
    def __call__(
        self, condition: Callable[[], Any], timeout: float = ..., what: str = ...
    ) -> Any: ...


class WaitFor(Protocol):
    async def __call__(
        self,
        pilot: Pilot[Any],
        condition: Callable[[], object],
        timeout: float = ...,
        what: str = ...,
    ) -> None: ...


class Spawn(Protocol):
    def __call__(
        self,
        code: str,
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[str]: ...


def _wait_until(condition: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or condition!r}")
        time.sleep(0.02)


@pytest.fixture
def wait_until() -> WaitUntil:
    return _wait_until


async def _wait_for(
    pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 10.0, what: str = ""
) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or condition!r}")
        await pilot.pause(0.02)


@pytest.fixture
def wait_for() -> WaitFor:
    """The one way Pilot tests wait: for a condition, never for a length of time."""
    return _wait_for


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Where a test's store lives (created by the first Run)."""
    return tmp_path / "mmruns"


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without inherited store settings (mmtop is installed)."""
    env = dict(os.environ)
    env.pop("MMTOP_DIR", None)
    env.pop("MMTOP_POLLING", None)
    env.update(extra or {})
    return env


def _spawn_into(procs: list[subprocess.Popen[str]]) -> Spawn:
    def spawn(
        code: str, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=cwd or Path.cwd(),
            env=child_env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc

    return spawn


def _reap(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start `python -c code args...` with the repo importable; killed at teardown if alive."""
    procs: list[subprocess.Popen[str]] = []
    yield _spawn_into(procs)
    _reap(procs)


@pytest.fixture(scope="module")
def module_spawn() -> Iterator[Spawn]:
    procs: list[subprocess.Popen[str]] = []
    yield _spawn_into(procs)
    _reap(procs)


# Every capability dropped, the user kept: root then meets permission bits like anyone (no
# CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH) yet still reaches its own Python and checkout,
# which may sit under folders only root may enter.
SETPRIV_ARGS = ("--inh-caps=-all", "--bounding-set=-all")


@dataclass
class Unprivileged:
    """A folder, and a way to run Python there that permission bits stop."""

    dir: Path
    prefix: list[str]

    def run(self, code: str, *args: str) -> Any:
        """Run `python -c code args...` without privileges; returns what it printed, as JSON."""
        proc = subprocess.run(
            [*self.prefix, sys.executable, "-c", code, *args],
            cwd=self.dir,
            env=child_env({"HOME": str(self.dir)}),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            pytest.fail(f"the unprivileged child failed ({proc.returncode}): {proc.stderr}")
        return json.loads(proc.stdout)


@pytest.fixture
def unprivileged(tmp_path: Path) -> Iterator[Unprivileged]:
    """Permission checks that root would bypass: as root, the child runs with every
    capability dropped (setpriv, util-linux); as any other user it runs as that user."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root, and setpriv (util-linux) is missing to drop capabilities")
        prefix = [setpriv, *SETPRIV_ARGS]
    folder = tmp_path / "unprivileged"
    folder.mkdir()
    try:
        yield Unprivileged(folder, prefix)
    finally:
        for dirpath, _, _ in os.walk(folder):
            os.chmod(dirpath, 0o755)


class RunBytes(Protocol):
    def __call__(self, code: str, *args: str) -> subprocess.CompletedProcess[bytes]: ...


@pytest.fixture
def run_bytes() -> RunBytes:
    """Run `python -c code args...` to the end; stdout and stderr as raw bytes (text mode would
    turn a progress bar's `\\r` into newlines)."""

    def run(code: str, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=REPO_ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
        )

    return run


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests (Pilot sessions) with asyncio.run, each in its own event loop;
    no async plugin is a dependency."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
    return True
