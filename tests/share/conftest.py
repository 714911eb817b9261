"""Fixtures of `mmtop serve` and `mmtop report`: a copy of the sample store, a served app on
a free loopback port (stopped at teardown, children included), and headless Chromium.

Chromium is Debian's `chromium` package; where it is absent the browser checks skip and say
so. Screenshots are read back with a small PNG decoder (Chromium writes 8-bit RGB/RGBA,
non-interlaced), so no imaging library is needed.
"""

from __future__ import annotations

import asyncio
import base64
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 15.0
# Generous: a loaded 2-core box takes seconds to import the server, a browser or the app.
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on right now."""
    return _free_port()


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample runs (no caches, no generator script)."""
    target = tmp_path / "samples"
    shutil.copytree(
        REPO_ROOT / "sample_runs",
        target,
        ignore=shutil.ignore_patterns(".mmtop", "*.py", "__pycache__"),
    )
    return target


@dataclass
class Served:
    """A running `mmtop serve`: its process, URL, and every app process it has started."""

    proc: subprocess.Popen[str]
    port: int
    root: Path
    banner: str = ""
    seen: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app_pids(self) -> set[int]:
        """Live app processes started for browser sessions (remembered once seen)."""
        try:
            kids = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            kids = []
        live = {k.pid for k in kids if _is_app(k)}
        self.seen |= live
        return live

    def stop(self) -> int:
        """SIGTERM, as a service manager would; the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=STOP_TIMEOUT)


def _is_app(proc: psutil.Process) -> bool:
    try:
        return "mmtop.tui.served" in proc.cmdline()
    except psutil.Error:
        return False


@pytest.fixture
def serve(samples: Path) -> Iterator[Served]:
    """`mmtop serve` on a copy of the samples; killed at teardown with its children if the
    test left it running, so a failing test leaks no process."""
    port = _free_port()
    env = dict(os.environ)
    env.pop("MMTOP_DIR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mmtop.tui.cli", "serve", str(samples), "--port", str(port)],
        cwd=samples.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    served = Served(proc, port, samples)
    try:
        assert proc.stdout is not None
        served.banner = _read_banner(proc)
        yield served
    finally:
        _kill_tree(served)


def _read_banner(proc: subprocess.Popen[str]) -> str:
    """The server's first lines, up to the `then open URL` line (it is listening by then)."""
    done, lines = read_until(proc.stdout, "mmtop: then open", START_TIMEOUT)
    if not done:
        pytest.fail(f"mmtop serve did not start: {''.join(lines)}")
    return "".join(lines)


def read_until(stream: IO[str] | None, marker: str, timeout: float) -> tuple[bool, list[str]]:
    """Lines of `stream` up to one holding `marker`: (found, lines). A daemon thread reads,
    and goes on draining the pipe afterwards so the child never blocks on a full one."""
    assert stream is not None
    found: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        try:
            for line in stream:
                found.put(line)
        except (OSError, ValueError):  # closed at teardown
            pass
        found.put(None)

    threading.Thread(target=pump, daemon=True).start()
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = found.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return False, lines
        if line is None:
            return False, lines
        lines.append(line)
        if marker in line:
            return True, lines


def _kill_tree(served: Served) -> None:
    proc = served.proc
    pids = set(served.seen)
    try:
        pids |= {k.pid for k in psutil.Process(proc.pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        pass
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=STOP_TIMEOUT)
    for pid in pids:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    if proc.stdout is not None:
        proc.stdout.close()


# -- headless Chromium ---------------------------------------------------------------------


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars")


class Chromium:
    """Headless Chromium pages driven over the DevTools protocol; closed at teardown."""

    def __init__(self, binary: str, tmp: Path) -> None:
        self.binary = binary
        self.tmp = tmp
        self.procs: list[subprocess.Popen[str]] = []

    async def screenshot(
        self, url: str, size: tuple[int, int], ready: str, timeout: float = 30.0
    ) -> Image:
        """Load `url`, wait until the JavaScript expression `ready` is true and the picture
        stops changing, then return it (at half scale: the decoder is pure Python)."""
        import aiohttp

        page = await self._start(size)
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(page, max_msg_size=0) as ws:
                tab = _Tab(ws)
                await tab.call("Page.navigate", url=url)
                deadline = time.monotonic() + timeout
                last = b""
                while True:
                    if time.monotonic() > deadline:
                        pytest.fail(f"{url} was not ready ({ready}) after {timeout} s")
                    if await tab.evaluate(ready):
                        shot = await tab.png(size)
                        if shot == last:
                            (self.tmp / "screenshot.png").write_bytes(shot)
                            return read_png(shot)
                        last = shot
                    await asyncio.sleep(0.3)

    async def _start(self, size: tuple[int, int]) -> str:
        import aiohttp

        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.tmp)
        proc = subprocess.Popen(
            [
                self.binary,
                *CHROMIUM_FLAGS,
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                f"--window-size={size[0]},{size[1]}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.procs.append(proc)
        started, lines = read_until(proc.stderr, "DevTools listening on", START_TIMEOUT)
        if not started:
            pytest.fail(f"Chromium did not start: {''.join(lines)[-2000:]}")
        match = re.search(r"ws://127\.0\.0\.1:(\d+)/", lines[-1])
        assert match is not None, lines[-1]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{match.group(1)}/json/list") as reply:
                targets = await reply.json()
        return str(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
            if proc.stderr is not None:
                proc.stderr.close()


class _Tab:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.counter = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.counter += 1
        number = self.counter
        await self.ws.send_json({"id": number, "method": method, "params": params})
        while True:
            message: dict[str, Any] = await self.ws.receive_json()
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    async def evaluate(self, expression: str) -> Any:
        found = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return found["result"].get("value")

    async def png(self, size: tuple[int, int]) -> bytes:
        clip = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 0.5}
        shot = await self.call("Page.captureScreenshot", format="png", clip=clip)
        return base64.b64decode(shot["data"])


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Chromium]:
    found = shutil.which("chromium") or shutil.which("chromium-headless-shell")
    if found is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    browser = Chromium(found, tmp_path)
    try:
        yield browser
    finally:
        browser.close()


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    pixels: list[bytes]  # rows of RGB triples

    def colours(self) -> dict[bytes, int]:
        """How many pixels have each colour."""
        counts: dict[bytes, int] = {}
        for row in self.pixels:
            for x in range(0, len(row), 3):
                colour = row[x : x + 3]
                counts[colour] = counts.get(colour, 0) + 1
        return counts


def read_png(data: bytes) -> Image:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes) into RGB rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour_type in (2, 6), body
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind_byte = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(kind_byte, line, prev, channels)
        rows.append(bytes(line) if channels == 3 else bytes(_drop_alpha(line)))
        prev = line
    return Image(width, height, rows)


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prev[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            corner = prev[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _drop_alpha(line: bytearray) -> bytearray:
    out = bytearray()
    for x in range(0, len(line), 4):
        out += line[x : x + 3]
    return out
