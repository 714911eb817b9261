"""`mmtop serve`: the terminal app in a browser, through textual-serve.

textual-serve starts one app process per browser session (each websocket) and relays the
app's terminal output to xterm.js in the page; it has no authentication, so `mmtop serve`
binds to loopback unless told otherwise. Imported only by `mmtop serve`, and only once
textual-serve is known to be installed.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

from aiohttp import WSCloseCode, web
from textual_serve.server import Server

# A browser left open must not hold the server up once it is told to stop.
SHUTDOWN_TIMEOUT = 5.0


def app_command(path: str | None) -> str:
    """The shell command textual-serve runs per session (it uses a shell, so quote)."""
    words = [sys.executable, "-m", "mmtop.tui.served"]
    if path is not None:
        words.append(path)
    return " ".join(shlex.quote(w) for w in words)


class MmtopServer(Server):
    """textual-serve's server with mmtop's startup text and a prompt, clean shutdown."""

    def __init__(
        self, command: str, *, host: str, port: int, public_url: str, banner: list[str]
    ) -> None:
        super().__init__(command, host=host, port=port, title="mmtop", public_url=public_url)
        self.banner = banner
        self._sockets: set[web.WebSocketResponse] = set()

    async def on_startup(self, app: web.Application) -> None:
        pass  # textual-serve prints its logo here, before the port is even open

    def _listening(self, *_: object) -> None:
        # aiohttp calls this once every socket listens: whoever reads the banner can connect.
        sys.stdout.write("".join(f"{line}\n" for line in self.banner))
        sys.stdout.flush()

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service: Any) -> None:
        # Wrapped to know the open sessions: closing a socket ends this loop, and
        # textual-serve then tells that session's app to quit and waits for it.
        self._sockets.add(websocket)
        try:
            await super()._process_messages(websocket, app_service)
        finally:
            self._sockets.discard(websocket)

    async def on_shutdown(self, app: web.Application) -> None:
        for websocket in list(self._sockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped")

    def serve(self, debug: bool = False) -> None:
        import asyncio
        import signal

        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_exit)
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            print=self._listening,
        )
