"""`mmtop serve`, tested as a browser uses it: textual-serve's websocket protocol.

The page's script (textual-serve's static/js/textual.js) opens `/ws?width=W&height=H`,
sends `["resize", {"width": W, "height": H}]`, then every key as `["stdin", DATA]`; the
server answers with binary frames of the app's terminal output (what xterm.js draws) and
closes the socket when the app exits. pyte plays xterm.js here.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pyte
import pytest

from mmtop import store
from mmtop.tui.cli import main

WIDTH, HEIGHT = 160, 40


class Session:
    """One browser session: a websocket and the terminal screen its bytes draw."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.screen = pyte.Screen(WIDTH, HEIGHT)
        self.stream = pyte.ByteStream(self.screen)
        self.closed = False

    @property
    def lines(self) -> list[str]:
        return [str(line) for line in self.screen.display]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    async def key(self, data: str) -> None:
        await self.ws.send_str(json.dumps(["stdin", data]))

    async def until(self, condition: Callable[[], object], what: str, timeout: float = 60) -> None:
        """Feed the screen until `condition()` holds; fail (showing the screen) on timeout."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                pytest.fail(f"waiting for {what}; the screen shows:\n{self.text}")
            try:
                message = await asyncio.wait_for(self.ws.receive(), min(left, 1.0))
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                self.stream.feed(message.data)
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                self.closed = True

    def table_names(self) -> list[str]:
        """Run names of the runs table's rows, top to bottom (after the colour swatch and the
        status glyph)."""
        found = (ROW.match(line.split("▏")[0]) for line in self.lines[2:])
        return [m.group(1) for m in found if m]

    def preview_name(self) -> str:
        """The highlighted run's name, from the first line of the preview pane."""
        match = ROW.match(self.lines[1].split("▏")[-1])
        return match.group(1) if match else ""


# The focus bar (█) of the focused pane may lead the line.
ROW = re.compile(r"[\s█]*▌?\s*[✓✗☠▶●]\s+(\S+)")


async def connect(http: aiohttp.ClientSession, url: str) -> Session:
    ws = await http.ws_connect(
        f"{url}/ws?width={WIDTH}&height={HEIGHT}", timeout=aiohttp.ClientWSTimeout(ws_close=10)
    )
    await ws.send_str(json.dumps(["resize", {"width": WIDTH, "height": HEIGHT}]))
    return Session(ws)


def sample_names(root: Path) -> list[str]:
    return sorted(store.open(root, cache=False).runs()["name"].to_list())


def shows_all(session: Session, names: list[str]) -> Callable[[], bool]:
    return lambda: sorted(session.table_names()) == names


async def test_a_browser_session_shows_the_runs_and_its_keys_navigate(serve: Any) -> None:
    names = sample_names(serve.root)
    async with aiohttp.ClientSession() as http:
        session = await connect(http, serve.url)
        await session.until(shows_all(session, names), "every sample run in the table")
        rows = session.table_names()
        await session.until(lambda: session.preview_name() == rows[0], "preview")
        await session.key("j")
        await session.until(lambda: session.preview_name() == rows[1], "the second run previewed")
        await session.key("k")
        await session.until(lambda: session.preview_name() == rows[0], "the first run again")
        (app,) = serve.app_pids()
        await session.key("q")
        await session.until(lambda: session.closed, "the socket closed after q")
    await _until(lambda: not serve.app_pids(), f"app process {app} to exit after q")
    assert serve.stop() == 0


async def test_sessions_have_their_own_apps_share_the_store_and_stop_with_the_server(
    serve: Any,
) -> None:
    names = sample_names(serve.root)
    async with aiohttp.ClientSession() as http:
        first = await connect(http, serve.url)
        second = await connect(http, serve.url)
        for session in (first, second):
            await session.until(shows_all(session, names), "every sample run in the table")
        assert len(serve.app_pids()) == 2
        with store.Run(experiment="live", name="logged-while-served", root=serve.root) as run:
            run.log({"loss": 1.0}, step=0)
        for session in (first, second):
            # Called only inside this iteration's await, so the loop variable is the one meant.
            await session.until(
                lambda: "logged-while-served" in session.table_names(),  # noqa: B023
                "the new run to appear live",
            )
        started = set(serve.seen)
        assert serve.stop() == 0
        for session in (first, second):
            await session.until(lambda: session.closed, "the socket closed")  # noqa: B023
    await _until(lambda: not any(_alive(pid) for pid in started), "the app processes to exit")


async def _until(condition: Callable[[], object], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_the_banner_says_what_is_served_and_the_ssh_tunnel_to_it(serve: Any) -> None:
    user, host, port = getpass.getuser(), socket.gethostname(), serve.port
    assert serve.banner == (
        f"mmtop: serving {serve.root.resolve()} on http://127.0.0.1:{port} (Ctrl+C stops)\n"
        f"mmtop: from another machine: ssh -N -L {port}:127.0.0.1:{port} {user}@{host}\n"
        f"mmtop: then open http://127.0.0.1:{port}\n"
    )
    assert serve.stop() == 0


def test_a_remote_host_needs_allow_remote(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "mmtop: error: --host 0.0.0.0 is reachable from other machines and textual-serve has "
        "no authentication; pass --allow-remote to serve there anyway\n"
    )


def test_allow_remote_warns_and_binds_where_asked(
    samples: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mmtop.tui import serving

    bound: list[tuple[str, int, str]] = []

    def record(self: serving.MmtopServer, debug: bool = False) -> None:
        bound.append((self.host, self.port, self.command))

    monkeypatch.setattr(serving.MmtopServer, "serve", record)
    code = main(["serve", str(samples), "--host", "0.0.0.0", "--port", "8123", "--allow-remote"])
    assert code == 0
    assert bound == [("0.0.0.0", 8123, serving.app_command(str(samples.resolve())))]
    err = capsys.readouterr().err
    assert err.startswith("mmtop: warning: serving on 0.0.0.0 without authentication")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.5", "::1", "[::1]", "localhost"])
def test_loopback_hosts_need_no_flag(host: str) -> None:
    from mmtop.tui.cli.commands.serve import is_loopback

    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.1", "example.org", "localhost.evil"])
def test_other_hosts_are_remote(host: str) -> None:
    from mmtop.tui.cli.commands.serve import is_loopback

    assert not is_loopback(host)


def test_without_textual_serve_one_line_names_the_install_command(
    samples: Path, free_port: int
) -> None:
    # In a child, so that a broken guard cannot leave a real server running in the test run.
    code = (
        "import sys; sys.modules['textual_serve'] = None; from mmtop.tui.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    port = str(free_port)
    done = subprocess.run(
        [sys.executable, "-c", code, "serve", str(samples), "--port", port],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert (
        done.stderr == "mmtop: error: mmtop serve needs textual-serve: pip install 'mmtop[serve]'\n"
    )


async def test_chromium_draws_the_served_app(serve: Any, chromium: Any) -> None:
    """The real page in a real browser. xterm.js draws on a canvas, so the check is the
    picture: once the first bytes arrived and it stopped changing, it is not one colour
    (the screenshot stays in the test's tmp_path for a person to look at)."""
    image = await chromium.screenshot(
        serve.url, (1200, 720), "document.body.classList.contains('-first-byte')"
    )
    colours = image.colours()
    top = max(colours.values())
    assert len(colours) > 16 and top < 0.9 * image.width * image.height, (len(colours), top)
    assert serve.stop() == 0
